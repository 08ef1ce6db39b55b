// cnotrack: the one script of the pages besides htmx. A click on the skeleton of an imaging
// study asks the server for the lesion form of the clicked bone, side and segment.
document.addEventListener("click", function (event) {
  var wrap = event.target.closest("[data-form-url]");
  if (!wrap) return;
  var bone = event.target.closest("[data-bone]");
  if (!bone) return;
  var segment = event.target.closest("[data-segment]");
  var params = new URLSearchParams({
    bone: bone.getAttribute("data-bone"),
    side: bone.getAttribute("data-side") || "",
    segment: segment ? segment.getAttribute("data-segment") : ""
  });
  htmx.ajax("GET", wrap.getAttribute("data-form-url") + "?" + params.toString(),
            {target: "#lesion-panel", swap: "innerHTML"});
});
