import type { SagaServices, SessionPlan } from './saga-types';
import { EnrollmentSagaEnv as E } from '../../lib/enrollment-saga/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { numberSetting } from '../shared/config';

type PlanVariable = typeof E.SESSION_WINDOW | typeof E.TOTAL_SESSIONS | typeof E.SESSION_INTERVAL_DAYS | typeof E.SESSION_TIME;
type PlanConfig = { readonly [N in PlanVariable]: string };

/** The session plan from the handler's config (the construct checked the same ranges at synth). */
export function sessionPlanOf(config: PlanConfig): SessionPlan {
  return {
    window: numberSetting(E.SESSION_WINDOW, config[E.SESSION_WINDOW], 1, 100),
    total: numberSetting(E.TOTAL_SESSIONS, config[E.TOTAL_SESSIONS], 1, 1000),
    intervalDays: numberSetting(E.SESSION_INTERVAL_DAYS, config[E.SESSION_INTERVAL_DAYS], 1, 365),
    time: config[E.SESSION_TIME],
  };
}

/** The services a saga handler uses, from its config (one per container). */
export function sagaServicesOf(config: PlanConfig & { readonly [E.TABLE_NAME]: string }): SagaServices {
  return { db: documentClient, tableName: config[E.TABLE_NAME], now: () => new Date(), plan: sessionPlanOf(config) };
}
