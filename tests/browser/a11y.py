"""Accessibility helpers for the browser tests: axe-core, focus visibility, reflow.

axe-core comes from the npm registry (app/static/vendor/package.json, a devDependency that
`make vendor` installs with `npm ci`); it is never committed and never served by the app
(app/http.py serves only the dist files of the map and API-docs packages). The tests read the
file from node_modules and hand it to the browser themselves.

Why ``add_init_script`` and not ``add_script_tag``: Playwright's script tag is an inline
<script>, which Piazza's strict Content-Security-Policy (script-src 'self') blocks, as it
should. Turning CSP off for the test (``bypass_csp``) would change what is checked: inline
style attributes that CSP blocks in production would suddenly apply. An init script is
evaluated by the browser's DevTools protocol, outside CSP, from the file's text, before the
page's own scripts: the page stays exactly what users get, and axe is there when we call it.
"""
from tests.conftest import ROOT

AXE_JS = ROOT / "app" / "static" / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
#: What must never reach a page: axe's "serious" and "critical" impacts.
BLOCKING_IMPACTS = ("serious", "critical")
#: The rules about colours: contrast of text, and links told apart from text by colour alone.
COLOUR_RULES = ("color-contrast", "link-in-text-block")


def use_axe(page):
    """Make axe-core available on every document ``page`` loads from now on (see the module doc)."""
    assert AXE_JS.exists(), "axe-core is not installed: run `make vendor` (needs npm)"
    page.add_init_script(path=str(AXE_JS))


_RUN_AXE = """async ([exclude, rules]) => {
  const context = exclude.length ? {include: [document], exclude: exclude.map(s => [s])} : document;
  const options = {resultTypes: ["violations"]};
  if (rules.length) options.runOnly = {type: "rule", values: rules};
  const result = await axe.run(context, options);
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                              summary: (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 300)}))
  }));
}"""


def axe_violations(page, *, exclude=(), rules=()):
    """Every axe violation on the page as it is now: [{id, impact, help, nodes: [{target, html, summary}]}].

    ``exclude``: CSS selectors of parts axe must leave out (third-party widgets, with a reason where
    they are passed); ``rules``: only these rule ids (default: axe's standard set).
    """
    return page.evaluate(_RUN_AXE, [list(exclude), list(rules)])


def blocking(violations):
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def describe(label, violations):
    """Readable lines for an assertion message: one per violation, with its first nodes."""
    lines = []
    for v in violations:
        lines.append(f"{label}: {v['impact']} {v['id']} ({v['help']}), {len(v['nodes'])} node(s)")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}  {node['html']}\n      {node['summary']}")
    return lines


_FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none" && style.boxShadow !== "";
  const box = el.getBoundingClientRect();
  return {
    description: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                 (el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : "") +
                 (el.getAttribute("href") ? `[href=${el.getAttribute("href")}]` : "") +
                 " " + (el.innerText || el.value || "").trim().slice(0, 40),
    focusVisible: el.matches(":focus-visible"), outline, shadow,
    onScreen: box.width > 0 && box.height > 0,
  };
}"""


def focused(page):
    """The focused element's description and whether its focus can be seen (None: nothing focused)."""
    return page.evaluate(_FOCUS_STATE)


def assert_focus_visible(page, where=""):
    """The focused control shows it: it matches :focus-visible and draws an outline or a box shadow."""
    state = focused(page)
    assert state is not None, f"{where}: nothing has the keyboard focus"
    assert state["focusVisible"], f"{where}: {state['description']} has focus but not :focus-visible"
    assert state["outline"] or state["shadow"], f"{where}: {state['description']} shows no focus outline"
    assert state["onScreen"], f"{where}: {state['description']} has focus but is not displayed"
    return state


def tab_to(page, selector, *, backwards=False, max_steps=80):
    """Press Tab (Shift+Tab) until ``selector`` has the focus, checking at every stop that focus is visible.

    Returns the number of key presses. Fails if the control is never reached.
    """
    key = "Shift+Tab" if backwards else "Tab"
    visited = []
    for step in range(1, max_steps + 1):
        page.keyboard.press(key)
        state = assert_focus_visible(page, f"{key} #{step} towards {selector}")
        visited.append(state["description"])
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return step
    raise AssertionError(f"{selector} not reached with {key} in {max_steps} steps; visited: {visited}")


_REFLOW = """([navSelector, buttonSelector]) => {
  const width = document.documentElement.clientWidth;
  const displayed = el => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== "hidden" && !el.closest("[hidden], details:not([open]) > :not(summary)");
  };
  // A control inside a box that scrolls sideways on its own (a wide data table, a code sample)
  // is reachable by scrolling that box: tables are exempt from reflow (WCAG 1.4.10).
  const inScroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if ((s.overflowX === "auto" || s.overflowX === "scroll") && p.scrollWidth > p.clientWidth) return true;
    }
    return false;
  };
  const outside = [];
  const check = (selector, kind) => {
    for (const el of document.querySelectorAll(selector)) {
      if (!displayed(el) || inScroller(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.left < -0.5 || r.right > width + 0.5)
        outside.push(`${kind} ${el.tagName.toLowerCase()} "${(el.innerText || el.value || "").trim().slice(0, 30)}" at ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  };
  check(navSelector, "navigation");
  check(buttonSelector, "button");
  const nav = [...document.querySelectorAll(navSelector)].filter(displayed).length;
  // The widest element that is not clipped by a box of its own (a map, a scrolling table),
  // to say what sticks out when the page scrolls sideways.
  const clipped = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== "visible") return true;
    return false;
  };
  let widest = null;
  if (document.documentElement.scrollWidth > width) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 0.5 && (!widest || r.right > widest.right) && !clipped(el))
        widest = {right: Math.round(r.right), what: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                  (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "")};
    }
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, outside, nav, widest};
}"""


def reflow_state(page, nav_selector, button_selector):
    """Page width against the viewport, controls that stick out, the count of displayed navigation links."""
    return page.evaluate(_REFLOW, [nav_selector, button_selector])
