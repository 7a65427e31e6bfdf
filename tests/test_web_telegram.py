"""/web on the real Telegram adapter against the local Bot API emulator: the Mini App
button and the chat's menu button in a private chat (the emulator refuses web_app
buttons in groups with 400 BUTTON_TYPE_INVALID, as Telegram does), and in a group the
link goes to the private chat, never to the group."""

from __future__ import annotations

from tests.test_telegram import GROUP, SEC, TG, tg  # noqa: F401  (the fixture)


def _https(tg: TG) -> None:  # noqa: F811
    s = tg.app.router.settings
    tg.app.router.settings = s.model_copy(update={"web": s.web.model_copy(
        update={"public_url": "https://chibot.example.vn"})})


async def test_web_in_private_opens_the_mini_app_and_sets_the_menu_button(tg: TG) -> None:  # noqa: F811
    _https(tg)
    thanh = await tg.link(SEC, 101)  # the cell's secretary
    await tg.push(tg.emu.user_message(thanh, "/web"))
    sent = tg.emu.to(101)[-1]
    assert "https://chibot.example.vn/web/l/" in sent.text
    button = sent.reply_markup["inline_keyboard"][0][0]
    assert button["web_app"] == {"url": "https://chibot.example.vn/web/tg"}
    call = [p for m, p in tg.emu.calls if m == "sendMessage" and "/web/l/" in p["text"]][-1]
    assert call["link_preview_options"] == {"is_disabled": True}  # no preview fetch
    assert tg.emu.menu_buttons[101] == {"type": "web_app", "text": "Theo dõi",
                                        "web_app": {"url": "https://chibot.example.vn/web/tg"}}


async def test_web_in_a_group_answers_privately_without_a_web_app_button(tg: TG) -> None:  # noqa: F811
    _https(tg)
    thanh = await tg.link(SEC, 101)
    tg.emu.add_group(GROUP, "Chi bộ QLNS")
    await tg.push(tg.emu.user_message(thanh, f"/link {tg.code('chat', org_id=tg.cell().id)}",
                                      chat_id=GROUP))
    await tg.push(tg.emu.user_message(thanh, "/web", chat_id=GROUP))
    group = tg.emu.to(GROUP)[-1]
    assert "tin nhắn riêng" in group.text and "/web/l/" not in group.text
    assert "/web/l/" in tg.emu.to(101)[-1].text
