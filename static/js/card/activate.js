// The activation page: before the form leaves, the phone makes its key pair (WebCrypto, the private
// key non-extractable), keeps it in IndexedDB as "pending", and sends the public key as device_key.
// The same pending key serves every attempt until one succeeds (the card app then adopts it).
import { canHoldCard, getItem, newDeviceKey, setItem } from "./store.js";

const form = document.querySelector("[data-activation-form]");
const keyField = form.querySelector("[data-device-key]");
const submit = form.querySelector("[data-submit]");
const unsupported = document.querySelector("[data-unsupported]");

const showPassword = form.querySelector("[data-show-password]");
showPassword?.addEventListener("change", () => {
  form.querySelector("#password").type = showPassword.checked ? "text" : "password";
});

async function pendingKey() {
  const existing = await getItem("pending");
  if (existing?.privateKey && existing.raw) return existing;
  const key = await newDeviceKey();
  await setItem("pending", key);
  return key;
}

if (!canHoldCard()) {
  unsupported.hidden = false;
  submit.disabled = true;
} else {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true; // one activation at a time (a double tap would spend the code twice)
    try {
      keyField.value = (await pendingKey()).raw;
      form.submit(); // no second submit event
    } catch (error) {
      console.warn("device key", error);
      unsupported.hidden = false;
      submit.disabled = false;
    }
  });
}
