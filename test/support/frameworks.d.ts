// Express 4 and Koa 2 are installed beside Express 5 and Koa 3 under npm aliases (test/package.json).
// Neither alias has type definitions of its own; the tests use only the API the two majors share, so
// the current majors' types describe them well enough here (never in a package).
declare module 'express4' {
  import express from 'express';
  export default express;
}

declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
