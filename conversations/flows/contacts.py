"""/contacts: where the bot reaches me beyond Telegram. Share my own number through Telegram's
contact button (Telegram vouches for it), or type a number and type back the code sent by SMS;
set an e-mail address the same way; remove either."""

from __future__ import annotations

from enum import IntEnum

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from conversations.context import BotContext
from conversations.flows import drafts, start
from conversations.flows.base import Command, Flow
from conversations.flows.common import NEW_MESSAGE, NEW_TEXT, cancelled, pressed, stale_button
from conversations.i18n import Texts
from conversations.render import contacts as render
from conversations.render import keyboards
from fieldbot.services.contacts import CodeSent, Compose, ContactRefused

KIND = "contacts_kind"  # user_data: which code the person is typing ("phone" | "email")


class Contacts(IntEnum):
    SHARE = 1
    PHONE = 2
    EMAIL = 3
    CODE = 4


def _compose(t: Texts, kind: str) -> Compose:
    key = "contacts.code_sms" if kind == "phone" else "contacts.code_email"
    return lambda code, minutes: (t("contacts.code_subject"), t(key, code=code, minutes=minutes))


async def _say(update: Update, text: str, **kwargs: object) -> None:
    assert update.effective_chat
    await update.get_bot().send_message(update.effective_chat.id, text, parse_mode="HTML",
                                        **kwargs)  # type: ignore[arg-type]


async def show(update: Update, context: BotContext) -> int:
    """/contacts: show my contact points (masked) and what I can do with them. Looking asks
    nothing: only a button opens a question (and /contacts again ends one, quietly)."""
    points = await context.services.contacts.points(context.member.id)
    channels = context.services.channels
    await _say(update, render.overview(context.t, points, sms=channels.sms is not None,
                                       email=channels.email is not None),
               reply_markup=render.menu(context.t, points), protect_content=True)
    return ConversationHandler.END


async def share_pressed(update: Update, context: BotContext) -> int:
    """"Share my number": offer Telegram's own contact button."""
    await keyboards.take_buttons_off(update)
    t = context.t
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t("contacts.button.share_reply"), request_contact=True)],
         [KeyboardButton(t("contacts.button.cancel"))]],
        resize_keyboard=True, one_time_keyboard=True)
    await _say(update, t("contacts.share_ask"), reply_markup=keyboard)
    return Contacts.SHARE


async def contact_shared(update: Update, context: BotContext) -> int:
    """A contact card: kept, Telegram-verified, only when it is the sender's own."""
    message = update.effective_message
    assert message and message.contact
    try:
        phone = await context.services.contacts.share_phone(
            context.member.id, message.contact.user_id, message.contact.phone_number)
    except ContactRefused as refused:
        await message.reply_html(context.t(f"contacts.refused.{refused.reason}",
                                           **refused.details))
        return Contacts.SHARE
    await message.reply_html(context.t("contacts.shared_saved", phone=render.mask_phone(phone)),
                             reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


async def own_contact(update: Update, context: BotContext) -> None:
    """A contact card outside /contacts (the button of a lapsed question, the attachment
    menu): her own is kept, Telegram-verified; anyone else's gets what any stray message gets."""
    message = update.effective_message
    assert message and message.contact
    if message.contact.user_id != context.member.id:
        await start.outside_any_flow(update, context)
        return
    await contact_shared(update, context)


async def share_typed(update: Update, context: BotContext) -> int:
    """Text while the contact button is offered: Cancel, or a hint to tap the button."""
    message = update.effective_message
    assert message and message.text is not None
    if message.text.strip() == context.t("contacts.button.cancel"):
        return await cancelled(update, context)
    await message.reply_html(context.t("contacts.share_tap"))
    return Contacts.SHARE


async def type_pressed(update: Update, context: BotContext) -> int:
    """"Type a number": ask for it (in +country form unless I already have a number)."""
    await keyboards.take_buttons_off(update)
    services = context.services
    if services.channels.sms is None:
        await _say(update, context.t("contacts.refused.sms_unavailable"))
        return ConversationHandler.END
    region = await services.contacts.region(context.member.id)
    await _say(update, context.t("contacts.type_ask" if region else "contacts.type_ask_plus"))
    return Contacts.PHONE


async def email_pressed(update: Update, context: BotContext) -> int:
    """"Set e-mail": ask for the address."""
    await keyboards.take_buttons_off(update)
    if context.services.channels.email is None:
        await _say(update, context.t("contacts.refused.email_unavailable"))
        return ConversationHandler.END
    await _say(update, context.t("contacts.email_ask"))
    return Contacts.EMAIL


async def _code_sent(update: Update, context: BotContext, sent: CodeSent) -> int:
    drafts.store(context)[KIND] = sent.kind
    shown = (render.mask_phone(sent.target) if sent.kind == "phone"
             else render.mask_email(sent.target))
    await _say(update, context.t(f"contacts.code_sent_{sent.kind}", target=shown,
                                 minutes=sent.minutes),
               reply_markup=render.code_keyboard(context.t))
    return Contacts.CODE


async def _refused(update: Update, context: BotContext, refused: ContactRefused,
                   stay: int) -> int:
    final_reason = refused.reason in FINAL
    buttons = render.code_keyboard(context.t) if stay == Contacts.CODE and not (
        final_reason or refused.reason == "locked") else None
    await _say(update, context.t(f"contacts.refused.{refused.reason}", **refused.details),
               reply_markup=buttons)
    return ConversationHandler.END if final_reason else stay


# A lock is told again at each try (a correct code after it is refused too, visibly).
FINAL = frozenset({"sms_unavailable", "email_unavailable", "too_many", "no_code"})


async def phone_typed(update: Update, context: BotContext) -> int:
    """A typed number: checked, then a code is sent to it by SMS."""
    assert update.effective_message and update.effective_message.text is not None
    t = context.t
    try:
        sent = await context.services.contacts.request_phone_code(
            context.member.id, update.effective_message.text, _compose(t, "phone"))
    except ContactRefused as refused:
        return await _refused(update, context, refused, Contacts.PHONE)
    return await _code_sent(update, context, sent)


async def email_typed(update: Update, context: BotContext) -> int:
    """A typed address: checked, then a code is sent to it by e-mail."""
    assert update.effective_message and update.effective_message.text is not None
    try:
        sent = await context.services.contacts.request_email_code(
            context.member.id, update.effective_message.text, _compose(context.t, "email"))
    except ContactRefused as refused:
        return await _refused(update, context, refused, Contacts.EMAIL)
    return await _code_sent(update, context, sent)


async def code_typed(update: Update, context: BotContext) -> int:
    """A typed code: the number or address is kept when it matches."""
    assert update.effective_message and update.effective_message.text is not None
    kind = str(drafts.store(context).get(KIND, "phone"))
    try:
        target = await context.services.contacts.confirm(
            context.member.id, kind, update.effective_message.text)
    except ContactRefused as refused:
        return await _refused(update, context, refused, Contacts.CODE)
    drafts.store(context).pop(KIND, None)
    shown = render.mask_phone(target) if kind == "phone" else render.mask_email(target)
    await _say(update, context.t(f"contacts.confirmed_{kind}", target=shown))
    return ConversationHandler.END


async def resend_pressed(update: Update, context: BotContext) -> int:
    """"Send a new code" (this question's button only)."""
    await keyboards.take_buttons_off(update)
    kind = str(drafts.store(context).get(KIND, "phone"))
    try:
        sent = await context.services.contacts.resend(context.member.id, kind,
                                                      _compose(context.t, kind))
    except ContactRefused as refused:
        return await _refused(update, context, refused, Contacts.CODE)
    return await _code_sent(update, context, sent)


async def remove_pressed(update: Update, context: BotContext) -> int:
    """Remove my phone or my e-mail, then show what is left."""
    await keyboards.take_buttons_off(update)
    kind = keyboards.chosen(update)
    await context.services.contacts.remove(context.member.id, kind)
    await _say(update, context.t(f"contacts.removed_{kind}"))
    return await show(update, context)


async def _forget(context: BotContext) -> None:
    drafts.store(context).pop(KIND, None)


def register(app: Application) -> None:
    # The overview's buttons start their step even from an old /contacts message: each does
    # what its label says, now. "Send a new code" works only while a code is awaited.
    choices = [pressed(share_pressed, r"^contacts:share$"),
               pressed(type_pressed, r"^contacts:type$"),
               pressed(email_pressed, r"^contacts:email$"),
               pressed(remove_pressed, r"^contacts:rm:(phone|email)$")]
    command = Command("contacts", show)
    leave = [Command("cancel", cancelled), pressed(cancelled, r"^contacts:cancel$"),
             command, *choices]
    app.add_handler(Flow(
        entry_points=choices,
        states={
            Contacts.SHARE: [MessageHandler(NEW_MESSAGE & filters.CONTACT, contact_shared),
                             MessageHandler(NEW_TEXT, share_typed)],
            Contacts.PHONE: [MessageHandler(NEW_TEXT, phone_typed)],
            Contacts.EMAIL: [MessageHandler(NEW_TEXT, email_typed)],
            Contacts.CODE: [MessageHandler(NEW_TEXT, code_typed),
                            pressed(resend_pressed, r"^contacts:resend$")],
        },
        fallbacks=leave, name="contacts", cleanup=_forget, allow_reentry=True,
    ))
    app.add_handler(command)
    app.add_handler(MessageHandler(NEW_MESSAGE & filters.CONTACT, own_contact))
    # A button of a question no longer open (an old "Send a new code").
    app.add_handler(CallbackQueryHandler(stale_button, pattern=r"^contacts:"))
