export { BuildPipeline } from './build-pipeline';
export * from './build-pipeline-props';
// What a user of the construct matches on: its event types and source, and the shapes its events and secret carry.
export {
  BuildEvents, BUILD_EVENT_SOURCE, BuildJobStatus, BuildJobFailureReason, type BuildEventType, type BuildJobStatusValue,
  type BuildJobFailureReasonCode, type BuildEventPayload, type BuildArtifact, type BuildImage, type WebhookSecretValue,
  type DeliveryLogEntry, type DeliveryAttempt,
} from './contract';
