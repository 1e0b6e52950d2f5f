// The 3D view of one motion: a stick figure (left limbs blue, right red, as in `remogpt render`), a checkerboard
// floor with the figure's shadow and root trajectory, orbit controls, and playback (play/pause, speed, scrubbing).
import * as THREE from '../vendor/three.bundle.min.js';

const AZIMUTH = THREE.MathUtils.degToRad(35);  // the renderer's camera: front-left of a subject facing +Z
const ELEVATION = THREE.MathUtils.degToRad(20);
const UP = new THREE.Vector3(0, 1, 0);
const BONE_RADIUS = 0.026;
const JOINT_RADIUS = 0.032;
const HEAD_RADIUS = 0.09;
const FOLLOW_EXTENT = 2.5;  // metres of root travel past which the camera follows the figure by default
const FIGURE_RADIUS = 1.4;  // metres around the figure a following camera keeps in view
const TRAIL_FULL = 0xa8d6cd;  // remogpt.render.style TRAJECTORY_FULL / TRAJECTORY_DONE
const TRAIL_DONE = 0x1f8a70;

export class MotionViewer {
  constructor(canvas, skeleton, onFrame = () => {}, onFollow = () => {}) {
    this.canvas = canvas;
    this.skeleton = skeleton;
    this.onFrame = onFrame;
    this.onFollow = onFollow;
    this.stats = { framesDrawn: 0, bones: 0, frame: 0, motionId: null, playing: false, webgl: false };
    this.motion = null;
    this.playing = true;
    this.speed = 1;
    this.time = 0;
    this.follow = false;
    this.lastRoot = null;

    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.shadowMap.enabled = true;
    this.renderer.shadowMap.type = THREE.PCFShadowMap;
    this.stats.webgl = true;

    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0xeef1f5);
    this.scene.fog = new THREE.Fog(0xeef1f5, 12, 30);
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.05, 100);
    this.controls = new THREE.OrbitControls(this.camera, canvas);
    this.controls.enableDamping = true;
    this.controls.maxPolarAngle = Math.PI * 0.495;  // never below the floor
    this.controls.minDistance = 0.5;
    this.controls.maxDistance = 25;
    this.controls.addEventListener('change', () => { this.dirty = true; });
    this.dirty = true;

    this.scene.add(new THREE.HemisphereLight(0xffffff, 0xb8c0cc, 1.6));
    this.sun = new THREE.DirectionalLight(0xffffff, 1.6);
    this.sun.castShadow = true;
    this.sun.shadow.mapSize.set(1024, 1024);
    this.sun.shadow.bias = -0.0005;
    this.scene.add(this.sun, this.sun.target);

    this.floor = this.makeFloor();
    this.scene.add(this.floor);
    this.figure = this.makeFigure(skeleton);
    this.scene.add(this.figure.group);
    this.trail = this.makeTrail();
    this.scene.add(this.trail.full, this.trail.done);

    this.frameCamera();
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    this.clock = new THREE.Timer();
    this.renderer.setAnimationLoop(() => this.tick());
  }

  // ---- scene pieces
  makeFloor() {
    const size = 512, cells = 8;  // one texture tile = 8 x 8 cells of 0.5 m
    const paint = document.createElement('canvas');
    paint.width = paint.height = size;
    const g = paint.getContext('2d');
    const cell = size / cells;
    for (let i = 0; i < cells; i++) {
      for (let j = 0; j < cells; j++) {
        g.fillStyle = (i + j) % 2 ? '#dee3e9' : '#eceff3';  // GROUND_DARK / GROUND_LIGHT
        g.fillRect(i * cell, j * cell, cell, cell);
      }
    }
    const texture = new THREE.CanvasTexture(paint);
    texture.wrapS = texture.wrapT = THREE.RepeatWrapping;
    texture.colorSpace = THREE.SRGBColorSpace;
    texture.anisotropy = 8;
    const extent = 60;
    texture.repeat.set(extent / 4, extent / 4);
    const floor = new THREE.Mesh(
      new THREE.PlaneGeometry(extent, extent),
      new THREE.MeshStandardMaterial({ map: texture, roughness: 0.95 }),
    );
    floor.rotation.x = -Math.PI / 2;
    floor.receiveShadow = true;
    return floor;
  }

  makeFigure(skeleton) {
    const group = new THREE.Group();
    const cylinder = new THREE.CylinderGeometry(1, 1, 1, 14);  // unit: scaled per bone and frame
    const sphere = new THREE.SphereGeometry(1, 20, 14);
    const materials = new Map();
    const material = (colour) => {
      if (!materials.has(colour)) {
        materials.set(colour, new THREE.MeshStandardMaterial({ color: colour, roughness: 0.45, metalness: 0.05 }));
      }
      return materials.get(colour);
    };
    const sideOf = new Map();
    const bones = skeleton.bones.map((bone) => {
      const mesh = new THREE.Mesh(cylinder, material(bone.colour));
      mesh.castShadow = true;
      group.add(mesh);
      sideOf.set(bone.child, bone.colour);
      return { ...bone, mesh };
    });
    const joints = [];
    for (let j = 0; j < skeleton.num_joints; j++) {
      const head = j === skeleton.head;
      const mesh = new THREE.Mesh(sphere, material(head ? '#404046' : sideOf.get(j) || '#404046'));
      mesh.scale.setScalar(head ? HEAD_RADIUS : JOINT_RADIUS);
      mesh.castShadow = true;
      group.add(mesh);
      joints.push(mesh);
    }
    group.visible = false;
    return { group, bones, joints };
  }

  makeTrail() {
    const line = (colour) => {
      const geometry = new THREE.BufferGeometry();
      geometry.setAttribute('position', new THREE.Float32BufferAttribute([], 3));
      return new THREE.Line(geometry, new THREE.LineBasicMaterial({ color: colour }));
    };
    return { full: line(TRAIL_FULL), done: line(TRAIL_DONE) };
  }

  // ---- the motion
  setMotion(motion) {
    const T = motion.joints.length, J = motion.joints[0].length;
    const positions = new Float32Array(T * J * 3);
    let k = 0;
    for (const frame of motion.joints) for (const joint of frame) { positions[k++] = joint[0]; positions[k++] = joint[1]; positions[k++] = joint[2]; }
    let floorY = Infinity;
    for (let i = 1; i < positions.length; i += 3) floorY = Math.min(floorY, positions[i]);
    this.motion = { id: motion.id, fps: motion.fps, T, J, positions, floorY };
    this.floor.position.y = floorY;

    const trail = new Float32Array(T * 3);
    for (let t = 0; t < T; t++) {
      trail[t * 3] = positions[t * J * 3];
      trail[t * 3 + 1] = floorY + 0.003;
      trail[t * 3 + 2] = positions[t * J * 3 + 2];
    }
    for (const line of [this.trail.full, this.trail.done]) {
      line.geometry.setAttribute('position', new THREE.Float32BufferAttribute(trail, 3));
      line.geometry.computeBoundingSphere();
    }
    this.trail.full.position.y = this.trail.done.position.y = 0;
    this.time = 0;
    this.lastRoot = null;
    this.figure.group.visible = true;
    this.stats.motionId = motion.id;
    this.stats.bones = this.figure.bones.length;
    this.stats.frame = 0;
    this.follow = this.travel(trail) > FOLLOW_EXTENT;  // far travellers are followed
    this.onFollow(this.follow);
    this.pose(0);
    this.frameCamera();
  }

  travel(trail) {  // the side of the square the root's path fits in
    let minX = Infinity, maxX = -Infinity, minZ = Infinity, maxZ = -Infinity;
    for (let i = 0; i < trail.length; i += 3) {
      minX = Math.min(minX, trail[i]); maxX = Math.max(maxX, trail[i]);
      minZ = Math.min(minZ, trail[i + 2]); maxZ = Math.max(maxZ, trail[i + 2]);
    }
    return Math.max(maxX - minX, maxZ - minZ);
  }

  joint(t, j) {
    const m = this.motion, i = (t * m.J + j) * 3;
    return new THREE.Vector3(m.positions[i], m.positions[i + 1], m.positions[i + 2]);
  }

  pose(t) {
    const { bones, joints } = this.figure;
    for (let j = 0; j < joints.length; j++) joints[j].position.copy(this.joint(t, j));
    for (const bone of bones) {
      const a = this.joint(t, bone.parent), b = this.joint(t, bone.child);
      const direction = b.clone().sub(a);
      const length = direction.length();
      bone.mesh.position.copy(a).add(b).multiplyScalar(0.5);
      bone.mesh.scale.set(BONE_RADIUS, Math.max(length, 1e-4), BONE_RADIUS);
      if (length > 1e-6) bone.mesh.quaternion.setFromUnitVectors(UP, direction.divideScalar(length));
    }
    this.trail.done.geometry.setDrawRange(0, t + 1);
    const root = this.joint(t, 0);
    this.sun.position.set(root.x + 2.5, root.y + 6, root.z + 3.5);  // the shadow camera follows the figure
    this.sun.target.position.set(root.x, this.motion.floorY, root.z);
    if (this.follow && this.lastRoot) {
      const delta = root.clone().sub(this.lastRoot);
      delta.y = 0;
      this.camera.position.add(delta);
      this.controls.target.add(delta);
    }
    this.lastRoot = root;
    this.stats.frame = t;
    this.dirty = true;
    this.onFrame(t, this.motion.T, this.motion.fps);
  }

  // ---- camera
  // The whole motion in view, or (following) the figure at the current frame with room around it.
  frameCamera() {
    const target = new THREE.Vector3(0, 0.9, 0);
    let radius = 1.6;
    if (this.motion) {
      const box = new THREE.Box3();
      const p = this.motion.positions, J = this.motion.J;
      const [start, end] = this.follow ? [this.stats.frame * J * 3, (this.stats.frame + 1) * J * 3] : [0, p.length];
      for (let i = start; i < end; i += 3) box.expandByPoint(new THREE.Vector3(p[i], p[i + 1], p[i + 2]));
      box.getCenter(target);
      const size = box.getSize(new THREE.Vector3());
      radius = Math.max(0.5 * Math.hypot(size.x, size.y, size.z), FIGURE_RADIUS);
    }
    const fov = THREE.MathUtils.degToRad(this.camera.fov);
    const distance = (radius / Math.sin(fov / 2)) * 0.9;  // the box's corners are rarely all on screen
    const direction = new THREE.Vector3(
      Math.sin(AZIMUTH) * Math.cos(ELEVATION), Math.sin(ELEVATION), Math.cos(AZIMUTH) * Math.cos(ELEVATION));
    this.camera.position.copy(target).addScaledVector(direction, distance);
    this.controls.target.copy(target);
    this.controls.update();
    this.lastRoot = this.motion ? this.joint(this.stats.frame, 0) : null;
    this.dirty = true;
  }

  resize() {
    const parent = this.canvas.parentElement;
    const width = parent.clientWidth, height = parent.clientHeight;
    if (!width || !height) return;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.dirty = true;
  }

  // ---- playback
  setPlaying(playing) { this.playing = playing; }
  setSpeed(speed) { this.speed = speed; }
  setFollow(follow) { this.follow = follow; this.frameCamera(); }
  setTrail(visible) { this.trail.full.visible = this.trail.done.visible = visible; this.dirty = true; }
  seek(frame) {
    if (!this.motion) return;
    this.time = frame / this.motion.fps;
    this.pose(frame);
  }

  // Renders only when something changed (a new frame, the camera, the size): an idle page costs no CPU, and a
  // playing one renders at the motion's frame rate, not the screen's.
  tick() {
    this.clock.update();
    const dt = Math.min(this.clock.getDelta(), 0.1);  // a background tab does not jump ahead
    if (this.motion && this.playing) {
      const m = this.motion;
      this.time = (this.time + dt * this.speed) % (m.T / m.fps);
      const frame = Math.min(Math.floor(this.time * m.fps), m.T - 1);
      if (frame !== this.stats.frame) this.pose(frame);
    }
    if (this.controls.update()) this.dirty = true;
    this.stats.playing = this.playing && !!this.motion;
    if (!this.dirty) return;
    this.dirty = false;
    this.renderer.render(this.scene, this.camera);
    if (this.motion) this.stats.framesDrawn += 1;
  }
}
