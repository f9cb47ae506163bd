import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SEGMENT_CALLS } from './segment-mapping';

/**
 * Documentation of Segment's HTTP Tracking API message, as The Eye reads it; the mapping itself
 * is in segment-mapping.ts. Fields not listed are kept in the event's `data` as they are.
 */
export class SegmentMessageDto {
  @ApiPropertyOptional({
    enum: SEGMENT_CALLS,
    example: 'track',
    description: 'Call type (required in a batch; the single-call routes set it)',
  })
  type?: string;

  @ApiPropertyOptional({
    example: 'ajs-next-1701525327243-6f1e0d5c',
    description:
      'Id of the message: the event id is a UUIDv5 of (client id, messageId), so retries are stored once',
  })
  messageId?: string;

  @ApiPropertyOptional({ example: 'Order Completed', description: 'track: the event name (→ name)' })
  event?: string;

  @ApiPropertyOptional({ example: 'Home', description: 'page / screen: the page or screen name (→ name)' })
  name?: string;

  @ApiPropertyOptional({ example: 'user-42', description: 'Session fallback after anonymousId' })
  userId?: string;

  @ApiPropertyOptional({
    example: '3a1f5c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b',
    description: 'Session fallback after context.sessionId and properties.session_id',
  })
  anonymousId?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { category: 'checkout', session_id: 'e2085be5-9137-4e4e-80b5-f1ffddc25423', total: 42.5 },
    description: 'properties.category → category (else the call type); properties.session_id → session',
  })
  properties?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { plan: 'pro' } })
  traits?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { sessionId: 'e2085be5-9137-4e4e-80b5-f1ffddc25423' },
    description: 'context.sessionId → session (first choice)',
  })
  context?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: '2026-12-02T09:15:27.243Z',
    description:
      "Device time of the call; corrected for the device's clock as receivedAt − (sentAt − timestamp)",
  })
  timestamp?: string;

  @ApiPropertyOptional({
    example: '2026-12-02T09:15:28.001Z',
    description: 'Device time the message was sent',
  })
  sentAt?: string;

  @ApiPropertyOptional({
    example: 'wk_mJ0c7Qh1y8ZrVwKp2sXn4bT6dLfE9gHaU3iOoRkYqWz',
    description: 'Write key, when not sent as HTTP Basic user name (never stored)',
  })
  writeKey?: string;
}

export class SegmentBatchDto {
  @ApiProperty({ type: [SegmentMessageDto], maxItems: 2500 })
  batch!: SegmentMessageDto[];

  @ApiPropertyOptional({
    example: '2026-12-02T09:15:28.001Z',
    description: 'Device time the batch was sent (for messages without their own sentAt)',
  })
  sentAt?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { library: { name: 'analytics-node', version: '3.1.0' } },
    description: "Merged under each message's own context",
  })
  context?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { All: true },
    description: "Merged under each message's own integrations",
  })
  integrations?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'wk_mJ0c7Qh1y8ZrVwKp2sXn4bT6dLfE9gHaU3iOoRkYqWz',
    description: 'Write key, when not sent as HTTP Basic user name (never stored)',
  })
  writeKey?: string;
}

export class SegmentSuccessDto {
  @ApiProperty({
    example: true,
    description: 'The request was understood and its messages queued (bad messages go to the quarantine)',
  })
  success!: true;
}

/** What @segment/analytics-next loads at start (GET {cdnURL}/v1/projects/{writeKey}/settings). */
export class SegmentSettingsDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: {
      'Segment.io': {
        apiKey: 'wk_…',
        apiHost: 'eye.example.com/v1',
        protocol: 'https',
        deliveryStrategy: {},
      },
    },
    description: "Only Segment.io (the SDK's own destination), pointed at this server",
  })
  integrations!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { sampleRate: 0 } })
  metrics!: Record<string, unknown>;

  @ApiProperty({ example: [], type: 'array', items: { type: 'object' } })
  remotePlugins!: unknown[];

  [field: string]: unknown;
}
