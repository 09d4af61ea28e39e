// A small stand-in for a real service the monolith calls: stock levels by SKU.
import { createServer, type Server } from 'node:http';

const STOCK: Record<string, number> = { 'sku-1': 12, 'sku-2': 0, 'sku-3': 7 };

export function createInventoryService(): Server {
  return createServer((req, res) => {
    const match = /^\/stock\/([A-Za-z0-9-]+)$/.exec(req.url ?? '');
    const sku = match?.[1];
    const body =
      sku !== undefined && sku in STOCK
        ? { sku, available: STOCK[sku], requestId: req.headers['x-request-id'] ?? null }
        : undefined;
    res.statusCode = body ? 200 : 404;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body ?? { error: 'unknown sku' }));
  });
}
