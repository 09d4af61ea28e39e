// Per-route requirements, compiled once: which requests need a principal and what it must hold.
// Paths are matched against the exchange's NORMALIZED path (core), the one the router matches, so
// `/public/../admin`, `/%61dmin`, `//admin`, `/ADMIN`, `/admin/` and `/admin;x=1` all meet `/admin`'s rule.
import { createPathMatcher, type Exchange } from '@gatehousejs/core';
import type { Principal } from './principal.js';

/** What a route requires of the caller. Every listed condition must hold. */
export interface Requirement {
  /** No credential needed; one that is presented is still verified (and refused when invalid). @default false */
  readonly anonymous?: boolean;
  /** Refuse every request (403), whoever asks. @default false */
  readonly deny?: boolean;
  /** Scopes the principal must ALL hold. @example ['orders:write'] */
  readonly scopes?: readonly string[];
  /** Roles of which the principal must hold AT LEAST ONE. @example ['admin', 'ops'] */
  readonly roles?: readonly string[];
  /** Only these authentication methods (by `Authenticator.name`) are accepted. Default: every method. */
  readonly methods?: readonly string[];
  /** A last check over the principal and the request; false refuses with 403. May be async. */
  readonly allow?: (principal: Principal, exchange: Exchange) => boolean | Promise<boolean>;
}

/** A requirement for the requests matching `path` (and `httpMethods`). */
export interface AuthRule extends Requirement {
  /**
   * Path pattern over the normalized path: `/admin` (exactly), `/orders/:id` (one segment),
   * `/admin/*` (`/admin` and everything below it). Case-insensitive unless the gateway's
   * `paths.caseSensitive` is set.
   */
  readonly path: string;
  /** Upper-case HTTP methods the rule is for. Default: every method. @example ['POST', 'DELETE'] */
  readonly httpMethods?: readonly string[];
}

/** A rule compiled for matching. */
export interface CompiledRule {
  readonly requirement: Requirement;
  readonly httpMethods: ReadonlySet<string> | undefined;
  readonly insensitive: (path: string) => boolean;
  readonly sensitive: (path: string) => boolean;
}

/** Compiles the rule list once; the rules were checked by `authRuleSchema` (options.ts). */
export function compileRules(rules: readonly AuthRule[]): CompiledRule[] {
  return rules.map((rule) => ({
    requirement: rule,
    httpMethods: rule.httpMethods === undefined ? undefined : new Set(rule.httpMethods),
    insensitive: createPathMatcher(rule.path, { caseSensitive: false }),
    sensitive: createPathMatcher(rule.path, { caseSensitive: true }),
  }));
}

/** The first rule matching the exchange's normalized path and method. */
export function matchRule(rules: readonly CompiledRule[], exchange: Exchange): CompiledRule | undefined {
  if (rules.length === 0) return undefined;
  const path = exchange.path;
  const caseSensitive = exchange.runtime.pathPolicy.caseSensitive;
  for (const rule of rules) {
    if (rule.httpMethods !== undefined && !rule.httpMethods.has(exchange.method)) continue;
    if (caseSensitive ? rule.sensitive(path) : rule.insensitive(path)) return rule;
  }
  return undefined;
}

/** The scopes a principal lacks for a requirement (empty when none). */
export function missingScopes(principal: Principal, requirement: Requirement): string[] {
  const needed = requirement.scopes;
  if (needed === undefined || needed.length === 0) return [];
  return needed.filter((scope) => !principal.scopes.includes(scope));
}

/** Whether the principal holds one of the required roles (true when none are required). */
export function hasRole(principal: Principal, requirement: Requirement): boolean {
  const roles = requirement.roles;
  if (roles === undefined || roles.length === 0) return true;
  return roles.some((role) => principal.roles.includes(role));
}
