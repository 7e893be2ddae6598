// The holder's photo page: a preview of the chosen photo inside the card's 4:5 frame, which the
// officer moves (finger, mouse, arrow keys) and zooms. The frame travels to the server as three
// fractions of the upright image (left, top, width); the server crops the original file itself,
// keeps the card's aspect whatever it is sent, and without this script frames the middle.
//
// The browser shows a photo upright (its EXIF orientation applied) and naturalWidth/naturalHeight
// are those of the upright image: the same image the server crops after turning it.

const form = document.querySelector("[data-photo-form]");

if (form) {
  const [aspectWidth, aspectHeight] = form.dataset.aspect.split("/").map(Number);
  const ratio = aspectHeight / aspectWidth; // the frame's height per unit of width
  const maxBytes = Number(form.dataset.maxBytes);
  const inputs = [...form.querySelectorAll("[data-photo-input]")];
  const tool = form.querySelector("[data-photo-crop]");
  const frame = tool.querySelector("[data-crop-frame]");
  const image = tool.querySelector("[data-crop-image]");
  const zoom = tool.querySelector("[data-crop-zoom]");
  const chosen = form.querySelector("[data-photo-chosen]");
  const problem = form.querySelector("[data-photo-problem]");
  const fields = { x: form.elements.crop_x, y: form.elements.crop_y, width: form.elements.crop_width };
  const KEY_STEP = 0.05; // of the frame's width, per arrow key press

  // The frame on the image, in the image's own pixels: its centre and its width.
  const state = { naturalWidth: 0, naturalHeight: 0, centreX: 0, centreY: 0, width: 0 };
  let objectUrl = null;

  const largestWidth = () => Math.min(state.naturalWidth, state.naturalHeight / ratio);

  const clear = () => {
    for (const field of Object.values(fields)) field.value = "";
  };

  const say = (text) => {
    problem.textContent = text || "";
    problem.hidden = !text;
  };

  // Keep the frame inside the image, then show it and write the fields.
  const render = () => {
    const width = state.width;
    const height = width * ratio;
    state.centreX = Math.min(Math.max(state.centreX, width / 2), state.naturalWidth - width / 2);
    state.centreY = Math.min(Math.max(state.centreY, height / 2), state.naturalHeight - height / 2);
    const left = state.centreX - width / 2;
    const top = state.centreY - height / 2;
    const scale = frame.clientWidth / width; // screen pixels per image pixel
    // Geometry of pixels, not of text: physical left/top, in a frame that is always laid out LTR.
    image.style.width = `${state.naturalWidth * scale}px`;
    image.style.transform = `translate(${-left * scale}px, ${-top * scale}px)`;
    fields.x.value = (left / state.naturalWidth).toFixed(6);
    fields.y.value = (top / state.naturalHeight).toFixed(6);
    fields.width.value = (width / state.naturalWidth).toFixed(6);
  };

  const setZoom = (value) => {
    state.width = largestWidth() / value;
    render();
  };

  image.addEventListener("load", () => {
    state.naturalWidth = image.naturalWidth;
    state.naturalHeight = image.naturalHeight;
    state.centreX = state.naturalWidth / 2;
    state.centreY = state.naturalHeight / 2;
    zoom.value = "1";
    tool.hidden = false;
    setZoom(1);
  });

  // A file this browser cannot show (a HEIC photo on a computer): no preview, a centred frame.
  image.addEventListener("error", () => {
    tool.hidden = true;
    clear();
    say(form.dataset.noPreview);
  });

  const choose = (input) => {
    const file = input.files[0];
    say("");
    clear();
    tool.hidden = true;
    if (!file) return;
    // One photo at a time: choosing from the camera forgets a file chosen before, and the reverse.
    for (const other of inputs) if (other !== input) other.value = "";
    chosen.textContent = file.name;
    chosen.hidden = false;
    if (file.size > maxBytes) {
      input.value = "";
      chosen.hidden = true;
      say(form.dataset.tooLarge);
      return;
    }
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    image.src = objectUrl;
  };

  for (const input of inputs) input.addEventListener("change", () => choose(input));

  zoom.addEventListener("input", () => setZoom(Number(zoom.value)));

  // Dragging moves the photo under the frame (the frame's content follows the finger).
  let drag = null;
  frame.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, centreX: state.centreX, centreY: state.centreY };
    frame.setPointerCapture(event.pointerId);
    frame.focus(); // the arrow keys then move the same frame
    event.preventDefault(); // no text selection or image drag while moving
  });
  frame.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const scale = frame.clientWidth / state.width;
    state.centreX = drag.centreX - (event.clientX - drag.x) / scale;
    state.centreY = drag.centreY - (event.clientY - drag.y) / scale;
    render();
  });
  const stop = () => {
    drag = null;
  };
  frame.addEventListener("pointerup", stop);
  frame.addEventListener("pointercancel", stop);

  frame.addEventListener("keydown", (event) => {
    const step = state.width * KEY_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const move = moves[event.key];
    if (!move) return;
    state.centreX += move[0];
    state.centreY += move[1];
    render();
    event.preventDefault();
  });

  // The frame's size follows the screen (a phone turned): draw again at the new scale.
  window.addEventListener("resize", () => {
    if (!tool.hidden && state.width) render();
  });
}
