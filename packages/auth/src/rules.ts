// Per-route requirements, compiled once: which requests need a principal and what it must hold.
// Paths are matched against the exchange's NORMALIZED path (core), the one the router matches, so
// `/public/../admin`, `/%61dmin`, `//admin`, `/ADMIN`, `/admin/` and `/admin;x=1` all meet `/admin`'s rule.
import { createPathMatcher, type Exchange } from '@gatehousejs/core';
import { type Problems, unknownKeys } from './options.js';
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

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const REQUIREMENT_KEYS = ['anonymous', 'deny', 'scopes', 'roles', 'methods', 'allow'] as const;
const RULE_KEYS = [...REQUIREMENT_KEYS, 'path', 'httpMethods'] as const;

/** Checks a requirement's fields, recording problems under `path`; `rule` also allows the rule keys. */
export function checkRequirement(
  problems: Problems,
  path: string,
  requirement: Requirement,
  rule = false,
): void {
  if (typeof requirement !== 'object' || requirement === null) {
    problems.add(path, 'must be an object');
    return;
  }
  unknownKeys(problems, path, requirement, rule ? RULE_KEYS : REQUIREMENT_KEYS);
  for (const key of ['scopes', 'roles', 'methods'] as const) {
    const list = requirement[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s.length === 0 || /\s/.test(s))) {
      problems.add(`${path}.${key}`, 'must be an array of non-empty strings without spaces');
    }
  }
  if (requirement.allow !== undefined && typeof requirement.allow !== 'function') {
    problems.add(`${path}.allow`, 'must be a function (principal, exchange) => boolean');
  }
  if (requirement.anonymous === true && requirement.deny === true) {
    problems.add(path, "'anonymous' and 'deny' cannot both be set");
  }
  if (
    requirement.anonymous === true &&
    (requirement.scopes?.length || requirement.roles?.length || requirement.allow)
  ) {
    problems.add(path, "an 'anonymous' route cannot also require scopes, roles or 'allow'");
  }
}

/** Compiles the rule list once; problems are recorded, never thrown one at a time. */
export function compileRules(problems: Problems, rules: readonly AuthRule[] | undefined): CompiledRule[] {
  if (rules === undefined) return [];
  if (!Array.isArray(rules)) {
    problems.add('rules', 'must be an array of rules');
    return [];
  }
  const compiled: CompiledRule[] = [];
  for (const [i, rule] of rules.entries()) {
    const at = `rules[${i}]`;
    checkRequirement(problems, at, rule, true);
    if (typeof rule !== 'object' || rule === null) continue;
    let insensitive: ((p: string) => boolean) | undefined;
    let sensitive: ((p: string) => boolean) | undefined;
    try {
      insensitive = createPathMatcher(rule.path, { caseSensitive: false });
      sensitive = createPathMatcher(rule.path, { caseSensitive: true });
    } catch (error) {
      problems.add(`${at}.path`, (error as Error).message);
    }
    let httpMethods: Set<string> | undefined;
    if (rule.httpMethods !== undefined) {
      if (!Array.isArray(rule.httpMethods) || rule.httpMethods.length === 0) {
        problems.add(`${at}.httpMethods`, 'must be a non-empty array of upper-case method names');
      } else {
        for (const [j, m] of rule.httpMethods.entries()) {
          if (typeof m !== 'string' || !TOKEN.test(m) || m !== m.toUpperCase()) {
            problems.add(
              `${at}.httpMethods[${j}]`,
              `must be an upper-case method name, got ${JSON.stringify(m)}`,
            );
          }
        }
        httpMethods = new Set(rule.httpMethods);
      }
    }
    if (insensitive !== undefined && sensitive !== undefined) {
      compiled.push({ requirement: rule, httpMethods, insensitive, sensitive });
    }
  }
  return compiled;
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
