// The orders service being extracted from the monolith: the same answers as the monolith's own
// handler, except order 3's total, which it computes differently (the diff the demo shows).
import { createServer, type Server } from 'node:http';

export const ORDERS: Record<string, { status: string; total: number }> = {
  '1': { status: 'open', total: 40 },
  '2': { status: 'shipped', total: 15.5 },
  '3': { status: 'open', total: 99 },
};

/** What the monolith answers for an order: `updatedAt` changes on every call (noise). */
export function orderView(id: string, total?: number) {
  const order = ORDERS[id];
  return order === undefined
    ? undefined
    : { id, status: order.status, total: total ?? order.total, updatedAt: new Date().toISOString() };
}

export function createOrdersService(): Server {
  return createServer((req, res) => {
    const id = /^\/orders\/([0-9]+)$/.exec(req.url ?? '')?.[1];
    const body = id === undefined ? undefined : orderView(id, id === '3' ? 89.1 : undefined);
    res.statusCode = body ? 200 : 404;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body ?? { error: 'unknown order' }));
  });
}
