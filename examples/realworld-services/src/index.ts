export {
  API_VERSIONS,
  apiVersionOf,
  createService,
  SERVICE_GROUPS,
  type Service,
  type ServiceOptions,
} from './service.js';
