// The lesson player: loaded on every page, active only when the URL names a lesson.
