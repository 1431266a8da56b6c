import { subscribe } from '../../src/events/types.ts';
import { userContract } from '../user/contract.ts';
import { ensureAccount } from './ledger.ts';

/** Every user gets an account with balance 0 when they are created. */
export const paymentSubscriptions = [
  subscribe(userContract.events.created, 'payment.open-account', async (payload, tx) => {
    await ensureAccount(tx, payload.userId, new Date(payload.createdAt));
  }),
];
