/** argon2id through Bun.password; the dummy hash keeps unknown-email sign-ins as slow as real ones. */
let dummy: Promise<string> | undefined;

// OWASP's argon2id floor (19 MiB, 2 passes): Bun's default 64 MiB let a burst of sign-ins take gigabytes.
const cost = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const;

export const hashPassword = (plain: string) => Bun.password.hash(plain, cost);

/** Hashes made with other parameters (older ones) still verify: the parameters live in the hash. */
export const verifyPassword = (plain: string, hash: string) => Bun.password.verify(plain, hash);

export async function burnDummyVerify(plain: string): Promise<void> {
  dummy ??= hashPassword(crypto.randomUUID());
  await verifyPassword(plain, await dummy);
}
