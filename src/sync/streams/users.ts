import { users } from '../../db/schema.js';
import { pagedRefreshStream } from '../stream-kinds.js';
import { toDatedRow } from '../map.js';

export default pagedRefreshStream({ name: 'users', description: 'Platform users: the company staff (GET /users).', table: users, page: (c, req) => c.usersPage(req), map: toDatedRow });
