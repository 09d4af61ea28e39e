// Why a discovery source failed, each with a stable code. These travel as `status().lastError` for
// diagnostics; a resolver never throws them at its consumer (the last known endpoints stay in force).
// They carry 503 so that a client that chooses to surface one renders "upstream unavailable".
import { defineError } from '@gatehousejs/core';

/** The DNS server answered NXDOMAIN: the name does not exist (or no longer exists). */
export const DnsNotFound = defineError('GH_DISCOVERY_DNS_NXDOMAIN', 503, 'DNS name does not exist');
/** The name exists but has no record of the requested type (NOERROR with an empty answer), or its SRV target is `.`. */
export const DnsNoRecords = defineError(
  'GH_DISCOVERY_DNS_NO_RECORDS',
  503,
  'DNS name has no records of the requested type',
);
/** Every DNS server answered SERVFAIL, REFUSED, NOTIMP, FORMERR or a malformed response. */
export const DnsServerFailure = defineError(
  'GH_DISCOVERY_DNS_SERVER_FAILURE',
  503,
  'DNS server failed to answer',
);
/** No DNS server answered within `timeoutMs`. */
export const DnsTimeout = defineError('GH_DISCOVERY_DNS_TIMEOUT', 503, 'DNS query timed out');
/** No DNS server could be reached (ICMP port unreachable, connection refused, no route). */
export const DnsUnreachable = defineError('GH_DISCOVERY_DNS_UNREACHABLE', 503, 'DNS server unreachable');
/** etcd could not be reached, a request timed out, or the watch stream broke. */
export const EtcdUnavailable = defineError('GH_DISCOVERY_ETCD_UNAVAILABLE', 503, 'etcd unavailable');
/** A registration's lease was revoked or expired (etcd unreachable for longer than its TTL). */
export const LeaseLost = defineError('GH_DISCOVERY_LEASE_LOST', 503, 'etcd registration lease lost');
/** An entry under the watched prefix could not be read as an endpoint; it is left out. */
export const InvalidEntry = defineError('GH_DISCOVERY_INVALID_ENTRY', 503, 'Invalid discovery entry');
/** `ready()` was awaited on a resolver (or registration) closed before its first resolution. */
export const DiscoveryClosed = defineError('GH_DISCOVERY_CLOSED', 503, 'Discovery closed');
