export { addDashboard, type Dashboard, type DashboardState } from './dashboard.js';
export { DashboardBusy } from './errors.js';
export { type DashboardOptions, dashboardOptionsSchema } from './options.js';
export { Series, type SeriesPoint, type SidePoint } from './series.js';
