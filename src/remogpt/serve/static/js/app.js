// The page: generate / caption / search panels on the left, the 3D viewer with playback and downloads on the right.
// `window.remogptStats` ({framesDrawn, bones, frame, motionId, playing, webgl}) lets tests check what was drawn.
import { api, download } from './api.js';
import { MotionViewer } from './viewer.js';

const $ = (id) => document.getElementById(id);
const state = { info: null, viewer: null, current: null, lastRequest: null, busy: false };
window.remogptStats = { framesDrawn: 0, bones: 0, frame: 0, motionId: null, playing: false, webgl: false };

// ---- status line
function setStatus(message, kind = 'info') {
  const status = $('status');
  status.textContent = message;
  status.className = `status ${kind}`;
}

function setBusy(busy, message) {
  state.busy = busy;
  document.body.classList.toggle('busy', busy);
  for (const id of ['generate-btn', 'another-btn']) $(id).disabled = busy || (id === 'another-btn' && !state.lastRequest);
  $('continue-btn').disabled = busy || !state.current;
  if (message) setStatus(message, busy ? 'working' : 'info');
}

// ---- tabs
for (const tab of document.querySelectorAll('.tabs button')) {
  tab.addEventListener('click', () => {
    for (const other of document.querySelectorAll('.tabs button')) {
      other.classList.toggle('active', other === tab);
      other.setAttribute('aria-selected', String(other === tab));
    }
    for (const panel of document.querySelectorAll('.tab')) panel.classList.toggle('active', panel.id === `tab-${tab.dataset.tab}`);
  });
}

// ---- the viewer
function formatSeconds(seconds) { return `${seconds.toFixed(2)} s`; }

function onFrame(frame, total, fps) {
  const timeline = $('timeline');
  if (document.activeElement !== timeline) timeline.value = frame;
  $('time-label').textContent = `${formatSeconds(frame / fps)} / ${formatSeconds(total / fps)}`;
}

const SOURCE_LABELS = {
  generated: 'generated motion', uploaded: 'uploaded motion', database: 'database motion',
};

function showMotion(motion, title) {
  state.current = motion;
  state.viewer?.setMotion(motion);
  $('timeline').max = motion.joints.length - 1;
  $('motion-title').textContent = title ?? motion.title;
  $('motion-source').textContent = SOURCE_LABELS[motion.source] ?? motion.source;
  $('motion-meta').textContent = `${motion.joints.length} frames · ${formatSeconds(motion.joints.length / motion.fps)} · ${motion.fps} fps`;
  for (const button of document.querySelectorAll('.download')) button.disabled = false;
  $('continue-btn').disabled = state.busy;
  setPlaying(true);
}

function setPlaying(playing) {
  state.viewer?.setPlaying(playing);
  const button = $('play');
  button.classList.toggle('paused', !playing);
  button.setAttribute('aria-label', playing ? 'pause' : 'play');
}

$('play').addEventListener('click', () => setPlaying(!state.viewer?.playing));
$('speed').addEventListener('change', (event) => state.viewer?.setSpeed(Number(event.target.value)));
$('follow').addEventListener('change', (event) => state.viewer?.setFollow(event.target.checked));
$('trail').addEventListener('change', (event) => state.viewer?.setTrail(event.target.checked));
$('reset-view').addEventListener('click', () => state.viewer?.frameCamera());
$('timeline').addEventListener('input', (event) => {
  setPlaying(false);
  state.viewer?.seek(Number(event.target.value));
});
document.addEventListener('keydown', (event) => {
  if (event.code !== 'Space' || event.target.closest('input, textarea, select, button')) return;
  event.preventDefault();
  setPlaying(!state.viewer?.playing);
});

// ---- references and search results: cards that play their motion when clicked
function renderNotices(list, notices) {
  list.replaceChildren(...(notices || []).map((text) => {
    const item = document.createElement('li');
    item.textContent = `Note: ${text}`;
    return item;
  }));
  list.hidden = !list.children.length;
}

function renderSteps(list, segments) {
  list.replaceChildren(...(segments || []).map((step) => {
    const item = document.createElement('li');
    item.textContent = `${step.start.toFixed(1)}–${step.end.toFixed(1)} s · ${step.text}`;
    return item;
  }));
  list.hidden = !list.children.length;
}

function renderCards(list, items, emptyText) {
  list.replaceChildren();
  if (!items.length) {
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = emptyText;
    list.append(empty);
    return;
  }
  for (const item of items) {
    const card = document.createElement('li');
    card.className = 'ref';
    const caption = document.createElement('div');
    caption.className = 'ref-caption';
    caption.textContent = item.caption;
    const meta = document.createElement('div');
    meta.className = 'ref-meta';
    const parts = [];
    if (item.kind) parts.push(item.kind.replace('->', ' → '));
    if (item.similarity !== undefined) parts.push(`similarity ${item.similarity.toFixed(3)}`);
    if (item.name) parts.push(item.name);
    if (item.num_tokens) parts.push(`${item.num_tokens} tokens`);
    meta.textContent = parts.join(' · ');
    card.append(caption, meta);
    if (item.id) {
      card.tabIndex = 0;
      card.title = 'watch this motion';
      const open = () => openStored(item.id, card);
      card.addEventListener('click', open);
      card.addEventListener('keydown', (event) => { if (event.key === 'Enter') open(); });
    } else {
      card.classList.add('static');
    }
    list.append(card);
  }
}

async function openStored(id, card) {
  try {
    card?.classList.add('loading');
    const motion = await api.motion(id);
    for (const other of document.querySelectorAll('.ref.playing')) other.classList.remove('playing');
    card?.classList.add('playing');
    showMotion(motion);
    setStatus(`Showing the ${SOURCE_LABELS[motion.source] ?? 'motion'} “${motion.title}”.`);
  } catch (error) {
    setStatus(error.message, 'error');
  } finally {
    card?.classList.remove('loading');
  }
}

// ---- generate
const prompt = $('prompt');
prompt.addEventListener('input', () => {
  $('prompt-count').textContent = prompt.value.length;
  // steps ('walk forward | sit down') make one long motion: the length slider then spans the whole of it
  const limits = state.info?.limits;
  if (limits) $('length').max = prompt.value.includes('|') ? limits.max_motion_seconds : limits.max_length_seconds;
  $('length-value').textContent = `${Number($('length').value).toFixed(1)} s`;
});
prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); $('generate-form').requestSubmit(); }
});
$('length-auto').addEventListener('change', (event) => { $('length').disabled = event.target.checked; });
$('length').addEventListener('input', (event) => { $('length-value').textContent = `${Number(event.target.value).toFixed(1)} s`; });
for (const chip of document.querySelectorAll('.chip')) {
  chip.addEventListener('click', () => {
    prompt.value = chip.textContent;
    prompt.dispatchEvent(new Event('input'));
    $('generate-form').requestSubmit();
  });
}

function readSeed() {
  const raw = $('seed').value.trim();
  if (!raw) return null;
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0) throw new Error('the seed must be a whole number ≥ 0, or empty for a random one.');
  return seed;
}

async function generate(request) {
  if (state.busy) return;
  state.lastRequest = request;
  setBusy(true, `Generating “${request.text}”…`);
  const started = performance.now();
  try {
    const motion = await api.generate(request.text, request.lengthSeconds, request.seed);
    showMotion(motion);
    renderNotices($('generate-notices'), motion.notices);
    renderSteps($('generate-steps'), motion.segments);
    renderCards($('references'), motion.context, 'This model uses no retrieved context.');
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    setStatus(`Generated ${motion.joints.length} frames in ${seconds} s${motion.seed !== null ? ` (seed ${motion.seed})` : ''}.`, 'ok');
  } catch (error) {
    setStatus(error.message, 'error');
  } finally {
    setBusy(false);
  }
}

$('generate-form').addEventListener('submit', (event) => {
  event.preventDefault();
  try {
    const lengthSeconds = $('length-auto').checked ? null : Number($('length').value);
    generate({ text: prompt.value, lengthSeconds, seed: readSeed() });
  } catch (error) {
    setStatus(error.message, 'error');
  }
});

$('another-btn').addEventListener('click', () => {
  if (!state.lastRequest) return;
  const request = { ...state.lastRequest };
  if (request.seed !== null) {  // a fixed seed gives the same motion again: step to the next one
    request.seed += 1;
    $('seed').value = request.seed;
  }
  generate(request);
});

// ---- caption an upload
async function captionFile(file) {
  if (!file) return;
  const limit = state.info?.limits.max_upload_bytes ?? Infinity;
  if (file.size > limit) {
    setStatus(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the server accepts at most ${(limit / 1e6).toFixed(1)} MB.`, 'error');
    return;
  }
  setBusy(true, `Captioning ${file.name}…`);
  try {
    const result = await api.caption(file);
    $('caption-text').textContent = result.caption || '(empty caption)';
    $('caption-result').hidden = false;
    showMotion(result, `${file.name}: “${result.caption}”`);
    renderNotices($('caption-notices'), result.notices);
    renderCards($('caption-references'), result.context, 'This model uses no retrieved context.');
    setStatus(`Captioned ${file.name} (${result.joints.length} frames).`, 'ok');
  } catch (error) {
    setStatus(`${file.name}: ${error.message}`, 'error');
  } finally {
    setBusy(false);
    $('upload').value = '';
  }
}

$('upload').addEventListener('change', (event) => captionFile(event.target.files[0]));
const dropzone = $('dropzone');
for (const name of ['dragenter', 'dragover']) {
  dropzone.addEventListener(name, (event) => { event.preventDefault(); dropzone.classList.add('over'); });
}
for (const name of ['dragleave', 'drop']) {
  dropzone.addEventListener(name, (event) => { event.preventDefault(); dropzone.classList.remove('over'); });
}
dropzone.addEventListener('drop', (event) => captionFile(event.dataTransfer.files[0]));

// ---- search
$('search-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const query = $('query').value;
  setStatus(`Searching for “${query}”…`, 'working');
  try {
    const found = await api.search(query, Number($('search-k').value));
    renderCards($('search-motion'), found.results['text->motion'] ?? [], 'No motions found.');
    renderCards($('search-text'), found.results['text->text'] ?? [], 'No captions found.');
    setStatus(`Results for “${found.query}”. Click one to watch it.`, 'ok');
  } catch (error) {
    setStatus(error.message, 'error');
  }
});

// ---- downloads
for (const button of document.querySelectorAll('.download')) {
  button.addEventListener('click', async () => {
    if (!state.current) return;
    const { format, what } = button.dataset;
    const query = what ? `?what=${what}` : '';
    button.classList.add('loading');
    setStatus(format === 'mp4' ? 'Rendering the video…' : `Preparing the .${format} file…`, 'working');
    try {
      const name = await download(`/api/motions/${state.current.id}.${format}${query}`);
      setStatus(`Downloaded ${name}.`, 'ok');
    } catch (error) {
      setStatus(error.message, 'error');
    } finally {
      button.classList.remove('loading');
    }
  });
}

// ---- continue the motion on screen (prediction): it, then what the model predicts comes next
$('continue-btn').addEventListener('click', async () => {
  if (!state.current || state.busy) return;
  setBusy(true, `Continuing “${state.current.title}”…`);
  try {
    const motion = await api.continueMotion(state.current.id, 3.0, null);
    showMotion(motion);
    setStatus(`Continued: ${motion.joints.length} frames in all.`, 'ok');
  } catch (error) {
    setStatus(error.message, 'error');
  } finally {
    setBusy(false);
  }
});

// ---- start
async function start() {
  try {
    state.info = await api.info();
  } catch (error) {
    setStatus(error.message, 'error');
    return;
  }
  const { info } = state;
  const limits = info.limits;
  $('model-info').textContent = `${info.model} · retrieval ${info.retrieval} · ${info.database_size} captions indexed`;
  $('prompt').maxLength = $('query').maxLength = limits.max_text_chars;
  $('prompt-max').textContent = limits.max_text_chars;
  $('length').min = limits.min_length_seconds;
  $('length').max = limits.max_length_seconds;
  $('upload-hint').textContent = `features (T, ${info.feature_dim}) or joints (T, ${info.skeleton.num_joints}, 3) · `
    + `at most ${(limits.max_upload_bytes / 1e6).toFixed(1)} MB and ${limits.max_upload_frames} frames`;
  $('search-k').max = limits.max_search_k;
  if (!info.database_size) {
    document.querySelector('[data-tab="search"]').disabled = true;
  }
  try {
    state.viewer = new MotionViewer($('canvas'), info.skeleton, onFrame, (follow) => { $('follow').checked = follow; });
    window.remogptStats = state.viewer.stats;
  } catch (error) {
    const message = $('stage-message');
    message.hidden = false;
    message.textContent = `The 3D view needs WebGL, which this browser does not offer (${error.message}).`;
  }
  setStatus('Ready. Describe a motion and press Generate (or Enter).');
  prompt.focus();
}

start();
