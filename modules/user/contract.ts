import * as v from 'valibot';
import { action, defineContract, event } from '../../src/contract.ts';
import { isoTime, plainText, uuid } from '../../src/validation.ts';

export const role = v.picklist(['customer', 'admin']);

export const email = v.pipe(
  v.string('must be a string'),
  v.maxLength(254, 'must be at most 254 characters'),
  v.rfcEmail('must be a valid email address'),
);

export const password = v.pipe(
  v.string('must be a string'),
  v.minLength(8, 'must be at least 8 characters'),
  v.maxLength(128, 'must be at most 128 characters'),
);

/** A user as clients see it; never a password or its hash. */
export const user = v.object({
  id: uuid,
  name: v.string(),
  email: v.string(),
  role,
  createdAt: isoTime,
});

export const registration = v.object({ name: plainText(1, 100), email, password });

export const credentials = v.object({
  email: v.pipe(v.string('must be a string'), v.maxLength(254, 'must be at most 254 characters')),
  password: v.pipe(
    v.string('must be a string'),
    v.maxLength(128, 'must be at most 128 characters'),
  ),
});

export const userContract = defineContract(
  'user',
  {
    /** Creates a customer account; `conflict` when the email is taken. */
    register: action({
      input: registration,
      output: user,
      idempotent: false,
      summary: 'Register a customer.',
    }),
    /** Checks a password; `unauthorized` for a wrong password and an unknown email alike. */
    authenticate: action({
      input: credentials,
      output: v.object({ id: uuid, role }),
      idempotent: true,
      summary: 'Verify credentials.',
    }),
    /** A user visible to the caller (themself, or anyone for an admin); otherwise `not_found`. */
    getUser: action({
      input: v.object({ id: uuid }),
      output: user,
      idempotent: true,
      summary: 'Read a user.',
    }),
  },
  {
    /** A user registered; the payment module opens their account. */
    created: event(v.object({ userId: uuid, createdAt: isoTime }), 'A user registered.'),
  },
);

export type User = v.InferOutput<typeof user>;
