/** argon2id through Bun.password; the dummy hash keeps unknown-email sign-ins as slow as real ones. */
let dummy: Promise<string> | undefined;

export const hashPassword = (plain: string) => Bun.password.hash(plain, { algorithm: 'argon2id' });

export const verifyPassword = (plain: string, hash: string) => Bun.password.verify(plain, hash);

export async function burnDummyVerify(plain: string): Promise<void> {
  dummy ??= hashPassword(crypto.randomUUID());
  await verifyPassword(plain, await dummy);
}
