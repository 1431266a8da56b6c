import { db } from '../lib/db.js';
import { unauthorized } from '../lib/errors.js';

/** user.me: the caller (ctx.meta.user, set by the gateway from the verified token). */
export default {
  name: 'user',
  actions: {
    me: {
      async handler(ctx) {
        const id = ctx.meta.user?.id;
        if (!id) throw unauthorized();
        const [row] = await db()`
          select id, name, email, role, created_at from "user".users where id = ${id}`;
        // A valid token for a user who no longer exists is as good as no token (as in bunshop).
        if (!row) throw unauthorized();
        return {
          id: row.id,
          name: row.name,
          email: row.email,
          role: row.role,
          createdAt: row.created_at.toISOString(),
        };
      },
    },
  },
};
