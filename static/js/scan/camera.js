// The phone camera and the decode loop. `ideal` constraints only (an `exact` one fails on a camera
// that cannot meet it); the rear camera preferred; torch and zoom offered only when the track says it
// has them; the tracks stopped when the page is hidden (the app resumes them when it is shown).

const FRAME_INTERVAL_MS = 80; // at most 12.5 decodes a second; a decode takes 2-4 ms (FACTS.md)
export const NO_CODE_AFTER_MS = 15_000;

/** Why the camera cannot be used, as one of the app's message keys. */
export function cameraProblem(error) {
  if (!window.isSecureContext) return "insecure";
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "permission_denied";
    case "NotFoundError":
    case "OverconstrainedError":
    case "DevicesNotFoundError":
      return "no_camera";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "camera_busy";
    default:
      return "camera_failed";
  }
}

export class Camera {
  /**
   * onCode(text) for each code read (the loop pauses until resume()); onNoCode() once after
   * NO_CODE_AFTER_MS without a code; onProblem(key) when the camera cannot start.
   */
  constructor(video, detectorPromise, { onCode, onNoCode, onProblem, onCapabilities }) {
    this.video = video;
    this.detectorPromise = detectorPromise;
    this.handlers = { onCode, onNoCode, onProblem, onCapabilities };
    this.stream = null;
    this.decoding = false;
    this.loopTimer = null;
    this.noCodeTimer = null;
    this.starting = null;
  }

  get track() {
    return this.stream?.getVideoTracks()[0] ?? null;
  }

  async start() {
    if (this.stream) return true;
    if (this.starting) return this.starting;
    this.starting = this.open().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async open() {
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      this.handlers.onProblem(window.isSecureContext ? "no_camera" : "insecure");
      return false;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (error) {
      this.handlers.onProblem(cameraProblem(error));
      return false;
    }
    // A performance mark when this stream's first frame is on the video: bench/scan.py times the
    // verdict from there.
    this.video.addEventListener("loadeddata", () => performance.mark("scan:first-frame"), { once: true });
    this.video.srcObject = this.stream;
    try {
      await this.video.play();
    } catch {
      // Autoplay of a muted inline video is allowed; a refusal here still leaves frames to decode.
    }
    this.handlers.onCapabilities(this.capabilities());
    this.resume();
    return true;
  }

  /** { torch: bool, zoom: {min, max, step, value} | null } from the track's own capabilities. */
  capabilities() {
    const track = this.track;
    const offered = typeof track?.getCapabilities === "function" ? track.getCapabilities() : {};
    const settings = typeof track?.getSettings === "function" ? track.getSettings() : {};
    const zoom = offered.zoom && offered.zoom.max > offered.zoom.min ? offered.zoom : null;
    return {
      torch: offered.torch === true,
      zoom: zoom && { min: zoom.min, max: zoom.max, step: zoom.step || 0.1, value: settings.zoom ?? zoom.min },
    };
  }

  async setTorch(on) {
    await this.track?.applyConstraints({ advanced: [{ torch: on }] });
  }

  async setZoom(value) {
    await this.track?.applyConstraints({ advanced: [{ zoom: value }] });
  }

  /** Decode frames again (after a verdict the reader has dismissed). */
  resume() {
    if (!this.stream || this.decoding) return;
    this.decoding = true;
    clearTimeout(this.noCodeTimer);
    this.noCodeTimer = setTimeout(() => this.decoding && this.handlers.onNoCode(), NO_CODE_AFTER_MS);
    this.scheduleFrame(0);
  }

  /** Stop decoding but keep the camera open (a verdict is on screen: scanning again is instant). */
  pause() {
    this.decoding = false;
    clearTimeout(this.loopTimer);
    clearTimeout(this.noCodeTimer);
  }

  /** Close the camera (the page is hidden): the tracks are stopped, the light goes off. */
  stop() {
    this.pause();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  scheduleFrame(delay) {
    clearTimeout(this.loopTimer);
    this.loopTimer = setTimeout(() => this.decodeFrame(), delay);
  }

  async decodeFrame() {
    if (!this.decoding) return;
    const started = performance.now();
    let text = null;
    if (this.video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && this.video.videoWidth > 0) {
      try {
        const detector = await this.detectorPromise;
        const codes = await detector.detect(this.video);
        text = codes.find((code) => code.rawValue)?.rawValue ?? null;
      } catch {
        text = null; // a frame the decoder could not take (the stream is ending): try the next one
      }
    }
    if (!this.decoding) return;
    if (text !== null) {
      this.pause();
      this.handlers.onCode(text);
      return;
    }
    this.scheduleFrame(Math.max(0, FRAME_INTERVAL_MS - (performance.now() - started)));
  }
}
