export { SagaEngine, type SagaEngineOptions } from './engine.ts';
export { type SagaPhase, type SagaRow, type SagaTable, sagaTable } from './table.ts';
export type { SagaDefinition, SagaStep, StepFailure } from './types.ts';
