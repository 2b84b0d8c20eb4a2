"""ui.keep_choice: a choice widget keeps its value across a language switch (AppTest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

TIMEOUT_S = 30


def _script() -> None:
    import streamlit as st

    from prep import ui
    from prep.i18n import Text

    options = [o for o in ("a", "b", "c") if o != st.query_params.get("drop")]
    ui.keep_choice("pick", options, default=st.query_params.get("x"))
    st.selectbox(ui.t("选择", "Pick"), options, key="pick",
                 format_func=ui.format_with({o: Text(f"{o} 甲", f"{o} one") for o in options}))


def _app(lang: str = "zh", **query: str) -> AppTest:
    at = AppTest.from_function(_script, default_timeout=TIMEOUT_S)
    at.session_state["_lang"] = lang
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_first_run_takes_the_default_when_valid_else_the_first_option():
    assert _app(x="b").selectbox(key="pick").value == "b"
    assert _app(x="nope").selectbox(key="pick").value == "a"
    assert _app().selectbox(key="pick").value == "a"


def test_the_choice_survives_a_language_switch_that_resets_the_widget():
    at = _app("zh")
    at.selectbox(key="pick").select("c").run()
    assert at.selectbox(key="pick").value == "c"
    at.session_state["_lang"] = "en"
    at.session_state["pick"] = "a"  # what the browser sends: the first option, old label lost
    at.run()
    assert at.selectbox(key="pick").value == "c"
    assert at.selectbox(key="pick").format_func("c") == "c one"
    at.selectbox(key="pick").select("b").run()  # an ordinary choice in the same language stays
    assert at.selectbox(key="pick").value == "b"


def test_a_choice_that_left_the_options_falls_back_without_an_error():
    at = _app("en")
    at.selectbox(key="pick").select("b").run()
    at.query_params["drop"] = "b"
    at.run()
    assert not at.exception
    assert at.selectbox(key="pick").value == "a"
    del at.query_params["drop"]
    at.selectbox(key="pick").select("c").run()
    at.query_params["drop"] = "a"
    at.run()
    assert at.selectbox(key="pick").value == "c"
