// The one module the page imports three.js from: three.js and its OrbitControls, bundled and minified by
// `npm run vendor` (see package.json) into static/vendor/three.bundle.min.js, which is committed.
export * from 'three';
export { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
