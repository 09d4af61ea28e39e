export { FrameworkGateway } from './framework-gateway.js';
