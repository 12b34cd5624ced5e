// Item keys of the enrollment table (its key schema: ENROLLMENT_TABLE_SCHEMA in lib/enrollment-saga/contract.ts).
export const purchaseId = (sagaId: string) => `pur_${sagaId}`;
export const allocationId = (sagaId: string) => `alc_${sagaId}`;

export const purchaseKey = (id: string) => ({ PK: `PURCHASE#${id}`, SK: 'PURCHASE' });
export const allocationKey = (id: string) => ({ PK: `ALLOCATION#${id}`, SK: 'ALLOCATION' });
const studentCourse = (studentId: string, courseId: string) => `STUDENT#${studentId}#COURSE#${courseId}`;
/** At most one active purchase per (student, course): the guard's key is that pair. */
export const activePurchaseGuard = (studentId: string, courseId: string) => ({ PK: studentCourse(studentId, courseId), SK: 'ACTIVE_PURCHASE' });
/** At most one active allocation per (student, course). */
export const activeAllocationGuard = (studentId: string, courseId: string) => ({ PK: studentCourse(studentId, courseId), SK: 'ACTIVE_ALLOCATION' });
export const trainersOfCourse = (courseId: string) => `COURSE#${courseId}`;
/** The course itself, seeded by users next to its trainers: `price` (minor units) and `currency`. */
export const courseKey = (courseId: string) => ({ PK: trainersOfCourse(courseId), SK: 'COURSE' });
/** The saga's first failure (reason, time): makes EnrollmentFailed stable across re-runs. */
export const failureKey = (sagaId: string) => ({ PK: `SAGA#${sagaId}`, SK: 'FAILURE' });
/**
 * Written once when the saga's payment is fully refunded: the saga refuses to create or
 * complete the enrollment from then on, and a completed one is cancelled.
 */
export const refundKey = (sagaId: string) => ({ PK: `SAGA#${sagaId}`, SK: 'REFUND' });
export const trainerKey = (courseId: string, trainerId: string) => ({ PK: trainersOfCourse(courseId), SK: `TRAINER#${trainerId}` });
/** Unique per (allocation, date, time). */
export const sessionKey = (allocation: string, date: string, time: string) => ({ PK: `ALLOCATION#${allocation}`, SK: `SESSION#${date}#${time}` });
export const TOPUP_ACTIVE = 'ACTIVE';
