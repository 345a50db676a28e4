// The manage API now lives in route plugins (ts/super/api/manage-*.ts) and a service
// (ts/super/manage.ts); these names stay importable from here.
export { guard } from './api/guard.js';
export { httpStateSchema } from './api/manage-schema.js';
export { localAddressOfFamily } from './endpoints.js';
export { superUpdate } from './manage.js';
