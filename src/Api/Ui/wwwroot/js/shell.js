// The parts of the shell the pages use: the message banner, error reporting and the confirmation dialog.

let bannerKind = null;
let bannerOwner = null;

/**
 * Shows a message in the banner: kind 'error' (default), 'offline' or 'info'. A message with an owner (the failure of
 * one periodic refresh) goes away by itself when that refresh next succeeds; the others stay until closed or replaced.
 */
export function showBanner(text, kind = 'error', { owner = null } = {}) {
  const banner = document.getElementById('banner');
  banner.className = `banner banner-${kind}`;
  document.getElementById('banner-text').textContent = text;
  banner.hidden = false;
  bannerKind = kind;
  bannerOwner = owner;
}

/** Hides the banner (only if it shows a message of that kind, when one is given). */
export function hideBanner(kind) {
  if (kind && bannerKind !== kind) return;
  document.getElementById('banner').hidden = true;
  bannerKind = null;
  bannerOwner = null;
}

/** Hides the banner if it shows a failure of owner's (which has just succeeded). */
export function clearBannerOf(owner) {
  if (owner !== null && bannerOwner === owner) hideBanner();
}

/**
 * Reports a failed call: 401 and unreachable are handled by the shell's listeners, others show the API's message
 * (owned by the periodic refresh that failed, if one did: see showBanner).
 */
export function reportError(e, { owner = null } = {}) {
  if (e?.status === 401 || e?.status === 0) return;
  showBanner(e?.describe ? e.describe() : String(e?.message ?? e), 'error', { owner });
}

/** Asks the user to confirm; resolves true on the OK button. */
export function confirmAction(title, text, okLabel) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}
