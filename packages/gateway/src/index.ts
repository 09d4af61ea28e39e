export { FrameworkGateway, type GatewayAdminOptions } from './framework-gateway.js';
