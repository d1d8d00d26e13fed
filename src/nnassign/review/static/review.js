// The grading screen: keyboard navigation, score keys, one request per score (saved at once).
// Student text is never read back into HTML here: only textContent and input values are set.
"use strict";
(function () {
  const root = document.getElementById("grading");
  if (!root) return;
  const token = document.querySelector('meta[name="review-token"]').content;
  const question = root.dataset.question;
  const maximum = parseFloat(root.dataset.max);
  const cards = Array.from(document.querySelectorAll(".card"));
  const progress = document.getElementById("progress");
  const grader = document.getElementById("grader");
  grader.value = localStorage.getItem("nnassign-grader") || "";
  grader.addEventListener("change", () => localStorage.setItem("nnassign-grader", grader.value));
  let current = 0;

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Review-Token": token},
      body: JSON.stringify(body)}).then(r => r.json().then(data => ({status: r.status, data})));
  }

  function state(card, text, ok) {
    const el = card.querySelector(".state");
    el.textContent = text;
    el.className = "state " + (ok ? "ok" : "error");
  }

  function show(card, score) {
    // Reflect a stored score (or none) on a card.
    card.dataset.version = score ? score.version : 0;
    card.classList.toggle("scored", !!score);
    card.querySelector(".points").value = score ? score.points : "";
    card.querySelector(".comment").value = score ? score.comment : "";
    card.querySelectorAll("button.key").forEach(b =>
      b.classList.toggle("on", !!score && parseFloat(b.dataset.points) === score.points));
  }

  function setProgress(p) {
    progress.dataset.scored = p.scored;
    progress.dataset.total = p.total;
    progress.textContent = p.scored + " / " + p.total + " scored";
  }

  function save(card, points) {
    const comment = card.querySelector(".comment").value;
    // points null clears the score (and its comment).
    const body = {student: card.dataset.student, question, points,
                  comment, grader: grader.value, base_version: parseInt(card.dataset.version, 10)};
    if (points !== null && !(points >= 0 && points <= maximum)) {
      state(card, "points must be between 0 and " + maximum, false);
      return Promise.resolve();
    }
    state(card, "saving…", true);
    return post("/api/score", body).then(({status, data}) => {
      if (status === 200) {
        show(card, data.score);
        setProgress(data.progress);
        state(card, data.score ? "saved" : "cleared", true);
      } else if (status === 409) {
        show(card, data.current);
        state(card, data.error, false);
      } else {
        state(card, data.error || ("error " + status), false);
      }
    }).catch(() => state(card, "not saved: the server is unreachable", false));
  }

  function go(i) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach((c, j) => c.classList.toggle("current", j === current));
    cards[current].focus({preventScroll: true});
    cards[current].scrollIntoView({block: "nearest"});
  }

  cards.forEach((card, i) => {
    card.addEventListener("click", () => { if (current !== i) go(i); });
    card.querySelectorAll("button.key").forEach(b =>
      b.addEventListener("click", () => { go(i); save(card, parseFloat(b.dataset.points)); }));
    const points = card.querySelector(".points");
    points.addEventListener("change", () => save(card, points.value === "" ? null : parseFloat(points.value)));
    const comment = card.querySelector(".comment");
    comment.addEventListener("change", () => {
      const p = points.value === "" ? null : parseFloat(points.value);
      if (p === null) { state(card, "give points first, then the comment is saved with them", false); return; }
      save(card, p);
    });
  });

  document.addEventListener("keydown", (e) => {
    const field = e.target.closest && e.target.closest("input, textarea");
    if (field) {
      if (e.key === "Escape") { field.blur(); go(current); }
      else if (e.key === "Enter" && field.classList.contains("comment")) { field.blur(); go(current); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const card = cards[current];
    if (e.key === "j" || e.key === "ArrowDown") { go(current + 1); }
    else if (e.key === "k" || e.key === "ArrowUp") { go(current - 1); }
    else if (/^[0-9]$/.test(e.key) && card) {
      const p = parseInt(e.key, 10);
      if (p > maximum) { state(card, "at most " + maximum + " points", false); return; }
      save(card, p).then(() => go(current + 1));
    } else if (e.key === "c" && card) { card.querySelector(".comment").focus(); }
    else if (e.key === "x" && card) { save(card, null); }
    else { return; }
    e.preventDefault();
  });

  const rubric = document.getElementById("rubric");
  const rubricState = document.getElementById("rubric-state");
  rubric.addEventListener("change", () => {
    rubricState.textContent = "saving…";
    post("/api/rubric", {question, text: rubric.value}).then(({status, data}) => {
      rubricState.textContent = status === 200 ? "saved" : (data.error || "not saved");
    }).catch(() => { rubricState.textContent = "not saved: the server is unreachable"; });
  });

  // Back to this tab: show what other graders saved meanwhile (cards being edited are left alone).
  window.addEventListener("focus", () => {
    fetch("/api/scores/" + encodeURIComponent(question), {credentials: "same-origin"})
      .then(r => r.json()).then(data => {
        if (!data.scores) return;
        cards.forEach(card => {
          if (card.contains(document.activeElement) && document.activeElement !== card) return;
          const score = data.scores[card.dataset.student] || null;
          if (String(score ? score.version : 0) !== card.dataset.version) show(card, score);
        });
        setProgress(data.progress);
      }).catch(() => {});
  });

  // Start at the student asked for, else at the first answer not scored yet.
  const focus = root.dataset.focus;
  let start = cards.findIndex(c => focus ? c.dataset.student === focus
                                         : !c.classList.contains("scored") && !c.classList.contains("empty"));
  go(start < 0 ? 0 : start);
})();
