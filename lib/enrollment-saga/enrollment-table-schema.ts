// The table schema lives in the contract (one copy for construct, handlers and tests).
export { ENROLLMENT_TABLE_SCHEMA } from './contract';
