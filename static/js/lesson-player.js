// The lesson player: loaded on every page, active only when the URL names a lesson
// (?lesson=<id>&ls=<k>). It also adds a camera button beside every image upload.

import { registerKeys } from './classroom/keys.js';
import { LESSON_KEYS, LessonPlayer } from './lesson/player.js';
import { addCameraButtons } from './camera.js';

const query = new URLSearchParams(window.location.search);
const id = query.get('lesson');
if (id && /^[a-z0-9-]+$/.test(id)) {
  registerKeys('Lesson', LESSON_KEYS);
  new LessonPlayer(id, Number(query.get('ls'))).load();
}

addCameraButtons();
