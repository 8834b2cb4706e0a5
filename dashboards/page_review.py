"""Review page: screen, correct and blind-label the items of a pairs (or curate) run.

Each action appends one line to `<run>.reviews.jsonl` beside the run folder (never inside it);
`alignsmith pairs apply-review` turns those lines into a new pairs run. Model text is shown only with
st.code / st.text_area (literal text), never as Markdown or HTML. Keyboard shortcuts use st.button's
`shortcut` (Streamlit >= 1.50): A accept, X reject, S swap, 1 / 2 / 3 blind labels, N next, P previous.
"""
from __future__ import annotations

import streamlit as st

from alignsmith.dashboards import review_logic as logic
from alignsmith.dashboards.store import RunReadError, finished
from alignsmith.dashboards.widgets import current_runs, plain_text, response_pair, show_problems

MODES = ("screen and correct", "blind label")
SHOW = ("all items", "not reviewed by me", "audit sample")


def _move(step: int, count: int) -> None:
    """Callback: go `step` items forward (wraps at the ends)."""
    st.session_state["rv-item"] = (int(st.session_state.get("rv-item", 1)) - 1 + step) % max(count, 1) + 1


def _act(run, iid: str, decision: str, count: int, fields: dict) -> None:
    """Callback: write one review, then move on; a refused review leaves a message and stays put."""
    reviewer = (st.session_state.get("rv-reviewer") or "").strip()
    if decision == "reject":
        fields = {**fields, "reason": st.session_state.get(f"rv-reason-{iid}", "")}
    if decision == "edit":
        side = fields["edit"]["side"]
        fields = {"edit": {"side": side, "text": st.session_state.get(f"rv-edit-{side}-{iid}", "")}}
    try:
        logic.write_review(run, iid, reviewer, decision, **fields)
    except ValueError as err:  # InputError: no reviewer name, no reason, empty edit
        st.session_state["rv-message"] = ("error", str(err))
        return
    st.session_state["rv-message"] = ("ok", f"saved: {decision} on {iid}")
    # After an edit the reviewer usually still accepts or swaps the item; in "not reviewed by me" the
    # reviewed item leaves the list, so the next one moves into the current position by itself.
    if decision != "edit" and st.session_state.get("rv-show") != "not reviewed by me":
        _move(1, count)


def render_progress(records: list[dict], total: int, reviewer: str) -> None:
    """Progress over the whole run, and this reviewer's share."""
    progress = logic.rv.review_progress(records, total)
    mine = len({r["item_id"] for r in records if r["reviewer"] == reviewer})
    st.progress(progress["share"], text=f"{progress['reviewed']} of {total} items reviewed "
                                         f"({mine} by you); {len(records)} review records")


def render_screen(run, row: dict, iid: str, count: int, judge: dict[str, str]) -> None:
    """Both answers with scores, judge verdict and provenance; accept / reject / swap / edit."""
    texts = logic.sides(run, row)
    if run.kind == "pairs":
        response_pair(f"chosen (score {row.get('chosen_score')})", texts["chosen"],
                      f"rejected (score {row.get('rejected_score')})", texts["rejected"])
        st.text(f"why this pair: {logic.why_made(row)}; judge verdict: {judge.get(iid, 'none recorded')}")
    else:
        st.code(texts["response"], language=None, wrap_lines=True)
        st.text(f"scores: {plain_text(row.get('scores'))}")
    cols = st.columns(4 if run.kind == "pairs" else 3)
    cols[0].button("Accept", key="rv-accept", shortcut="A", on_click=_act, args=(run, iid, "accept", count, {}),
                   type="primary")
    cols[1].text_input("reason to reject", key=f"rv-reason-{iid}", label_visibility="collapsed",
                       placeholder="reason to reject")
    cols[2].button("Reject", key="rv-reject", shortcut="X", on_click=_act, args=(run, iid, "reject", count, {}))
    if run.kind == "pairs":
        cols[3].button("Swap chosen/rejected", key="rv-swap", shortcut="S", on_click=_act,
                       args=(run, iid, "swap", count, {}))
    with st.expander("edit an answer"):
        for side, text in texts.items():
            st.text_area(f"{side} text", value=text, key=f"rv-edit-{side}-{iid}", height=200)
            st.button(f"Save {side} edit", key=f"rv-save-{side}", on_click=_act,
                      args=(run, iid, "edit", count, {"edit": {"side": side}}))


def render_blind(run, row: dict, iid: str, count: int, reviewer: str, seed: int) -> None:
    """The two answers as A and B in a seeded random order, no scores; A better / B better / tie."""
    if run.kind != "pairs":
        st.info("Blind labelling compares two answers; a curate run has one per item. Use a pairs run.")
        return
    texts = logic.sides(run, row)
    order = logic.blind_order(seed, reviewer, iid)
    response_pair("Answer A", texts[order[0]], "Answer B", texts[order[1]])
    cols = st.columns(3)
    for col, (shown, title, key) in zip(cols, (("A", "A better", "1"), ("B", "B better", "2"), ("tie", "Tie", "3"))):
        col.button(title, key=f"rv-label-{shown}", shortcut=key, on_click=_act, args=(
            run, iid, "label", count, {"label": logic.label_from_shown(shown, order), "shown_order": order,
                                       "shown_label": shown, "order_seed": seed}))


def render_item(run) -> None:
    """Pick the mode and the items to page through, then show one item and its review history."""
    items = logic.load_items(run)
    ids = items.ids
    records = logic.read_run_reviews(run)
    left, mid, right = st.columns(3)
    reviewer = left.text_input("your name (recorded with each review)", key="rv-reviewer").strip()
    mode = mid.radio("mode", MODES, key="rv-mode", horizontal=True)
    audit = logic.read_audit_ids(run)
    show = right.selectbox("items", SHOW if audit is not None else SHOW[:2], key="rv-show",
                           help="audit sample: the items `alignsmith pairs sample-audit` picked")
    render_progress(records, len(ids), reviewer)
    positions = logic.visible_positions(ids, records, reviewer, show, audit)
    if not positions:
        st.info("Nothing left to review in this selection.")
        return
    count = len(positions)
    if int(st.session_state.get("rv-item", 1)) > count:
        st.session_state["rv-item"] = count
    nav = st.columns([1, 1, 3])
    nav[0].button("Previous", key="rv-prev", shortcut="P", on_click=_move, args=(-1, count))
    nav[1].button("Next", key="rv-next", shortcut="N", on_click=_move, args=(1, count))
    number = nav[2].number_input(f"item (of {count})", min_value=1, max_value=count, step=1, key="rv-item")
    position = positions[int(number) - 1]
    row, iid = items.row(position), ids[position]
    kind, text = st.session_state.pop("rv-message", (None, None))
    if kind == "error":
        st.error("review not saved")
        st.text(text)  # the message may quote user input: shown as text
    elif kind == "ok":
        st.success("review saved")
    st.text(f"item id {iid} (row {position + 1} of {len(ids)})")
    st.code(plain_text(row.get("prompt")), language=None, wrap_lines=True)
    if not reviewer:
        st.warning("Enter your name above to record reviews.")
    if mode == MODES[0]:
        render_screen(run, row, iid, count, logic.judge_verdicts(run))
    else:
        seed = int(st.number_input("order seed", value=0, step=1, key="rv-seed",
                                   help="seeds the A/B order; recorded with each label"))
        render_blind(run, row, iid, count, reviewer, seed)
    history = logic.item_history(records, iid)
    if not history.empty and mode == MODES[0]:  # blind labelling must not see other people's judgements
        st.caption("reviews of this item so far")
        st.dataframe(history, hide_index=True, key="rv-history")


def render() -> None:
    st.title("Review")
    _, runs, problems = current_runs()
    show_problems(problems)
    candidates = [r for kind in logic.REVIEW_KINDS for r in finished(runs, kind)]
    if not candidates:
        st.info("No finished pairs or curate runs to review yet (`alignsmith pairs`, `alignsmith curate`).")
        return
    labels = [r.label for r in candidates]
    run = candidates[labels.index(st.selectbox("run to review", labels, key="rv-run"))]
    # Paths come from the filesystem: shown as text, not Markdown.
    st.text(f"reviews are appended to {logic.reviews_file(run)}\napply them with: alignsmith pairs apply-review "
            f"{run.path}")
    judge = (logic.card(run).get("judge") or {})
    if judge:
        with st.expander("judge summary (from the run's card)"):
            st.dataframe([{"scorer": k, **{m: str(v) for m, v in j.items()}} for k, j in judge.items()],
                         hide_index=True, key="rv-judge-card")
    try:
        render_item(run)
    except (RunReadError, logic.rv.InputError) as err:  # InputError: a bad line in the reviews file
        st.error(f"{run.label} or its reviews file could not be read")
        st.text(str(err))


if __name__ == "__main__":
    render()
