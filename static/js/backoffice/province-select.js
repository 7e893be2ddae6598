// The province select of the artisan form (templates/backoffice/register/artisan_form.html):
// the server lists every province of the regions the person may choose, grouped by region (so
// the form works without script, and the server refuses a province of another region); this
// module keeps the chosen region's provinces only and follows a change of region. The lists are
// the select's data-provinces attribute ({region code: [[stored value, name], ...]}).
const follow = (select) => {
  const form = select.form;
  const region = form && form.elements.namedItem(select.dataset.regionField);
  if (!region) return;
  const lists = JSON.parse(select.dataset.provinces);
  const known = new Set(Object.values(lists).flat().map(([value]) => value));
  const choose = select.options[0].cloneNode(true);
  // A province recorded before the lists existed stays choosable in its own region.
  const recorded = [...select.options].filter((option) => option.value && !known.has(option.value));
  const recordedRegion = region.value;

  const show = () => {
    const chosen = select.value;
    const options = [choose.cloneNode(true)];
    if (region.value === recordedRegion) options.push(...recorded.map((option) => option.cloneNode(true)));
    for (const [value, name] of lists[region.value] || []) options.push(new Option(name, value));
    select.replaceChildren(...options);
    select.value = options.some((option) => option.value === chosen) ? chosen : "";
  };
  region.addEventListener("change", show);
  show();
};

for (const select of document.querySelectorAll("select[data-provinces]")) follow(select);
