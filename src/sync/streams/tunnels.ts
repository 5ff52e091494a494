import { tunnels } from '../../db/schema.js';
import { pagedRefreshStream } from '../stream-kinds.js';
import { toDatedRow } from '../map.js';

export default pagedRefreshStream({ name: 'tunnels', description: 'Tunnels (GET /tunnels); their detail payload is stored by the leadgentools stream.', table: tunnels, page: (c, req) => c.tunnelsPage(req), map: toDatedRow });
