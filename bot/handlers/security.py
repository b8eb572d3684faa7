"""The payment password: set-up, change and recovery dialogues.

Every message that carries a password or an answer is deleted as soon as it is read, and no
secret stays in the conversation state: only the argon2 hash of a new password's first entry,
the hashes of answers, and which questions were picked or answered right.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.domain.errors import OperationGone
from bot.domain.models import UserRecord
from bot.handlers.dialogs import Confirm, SecretText, Setup, take_secret
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import Menu, MenuAction, PickQuestion, Security, SecurityAction
from bot.keyboards.menu import main_menu
from bot.keyboards.security import cancel_keyboard, questions_keyboard, security_menu
from bot.screens import show
from bot.services import Services
from bot.services.security import PASSWORD_MAX, PASSWORD_MIN, QUESTION_CODES, QUESTIONS_PER_USER

log = logging.getLogger(__name__)


class Change(StatesGroup):
    current = State()
    password = State()
    repeat = State()


class Recover(StatesGroup):
    answer = State()
    password = State()
    repeat = State()


def _rules(t: Translator) -> str:
    return t("password-rules", min=PASSWORD_MIN, max=PASSWORD_MAX)


# --- entry points ------------------------------------------------------------------------------


async def security_screen(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    """/password and the Security button: set one up, or change or recover it."""
    if await services.security.has_password(user.id):
        await state.clear()
        await show(event, t("security-menu"), security_menu(t))
        return
    await state.set_state(Setup.password)
    await show(event, f"{t('password-setup-intro')}\n\n{_rules(t)}", cancel_keyboard(t))


async def start_change(
    callback: CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    await services.security.ensure_unlocked(user.id)
    await state.set_state(Change.current)
    await show(callback, t("password-current"), cancel_keyboard(t))


async def start_recovery(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    questions = await services.security.questions_of(user.id)
    await state.set_state(Recover.answer)
    # The question codes are no secret; keeping them saves a read per answer.
    await state.set_data({"index": 0, "all_right": True, "questions": list(questions)})
    await show(event, _recovery_question(t, questions, 0), cancel_keyboard(t))


def _recovery_question(t: Translator, questions: tuple[str, ...], index: int) -> str:
    return t(
        "recover-question",
        number=index + 1,
        total=len(questions),
        question=t(f"question-{questions[index]}"),
    )


async def cancel(
    callback: CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    pending = data.get("operation") or data.get("then_confirm")
    if pending:
        with suppress(OperationGone):
            await services.security.cancel_operation(user.id, str(pending))
    await state.clear()
    await show(callback, f"{t('cancel-done')}\n\n{t('menu-title')}", main_menu(t))


# --- set-up ------------------------------------------------------------------------------------


async def setup_repeat(
    message: Message, t: Translator, services: Services, state: FSMContext
) -> None:
    secret = await take_secret(message)
    data = await state.get_data()
    if not await services.security.matches(data["first_hash"], secret):
        await _start_over(message, t, state, Setup.password, then_confirm=data.get("then_confirm"))
        return
    await state.set_data(
        {
            "password_hash": data["first_hash"],
            "questions": [],
            "answers": [],
            "then_confirm": data.get("then_confirm"),
        }
    )
    await state.set_state(Setup.question)
    await message.answer(
        t("questions-pick", number=1, total=QUESTIONS_PER_USER),
        reply_markup=questions_keyboard(t, QUESTION_CODES, ()),
    )


async def pick_question(
    callback: CallbackQuery, callback_data: PickQuestion, t: Translator, state: FSMContext
) -> None:
    data = await state.get_data()
    if not 0 <= callback_data.index < len(QUESTION_CODES):
        return
    code = QUESTION_CODES[callback_data.index]
    if code in data.get("questions", []):
        return
    await state.update_data(asking=code)
    await state.set_state(Setup.answer)
    await show(callback, t("answer-prompt", question=t(f"question-{code}")), cancel_keyboard(t))


async def setup_answer(
    message: Message, t: Translator, user: UserRecord, services: Services, state: FSMContext
) -> None:
    secret = await take_secret(message)
    answer_hash = await services.security.hash_answer(secret)
    data = await state.get_data()
    questions = [*data["questions"], data["asking"]]
    answers = [*data["answers"], answer_hash]
    if len(questions) < QUESTIONS_PER_USER:
        await state.update_data(questions=questions, answers=answers, asking=None)
        await state.set_state(Setup.question)
        await message.answer(
            t("questions-pick", number=len(questions) + 1, total=QUESTIONS_PER_USER),
            reply_markup=questions_keyboard(t, QUESTION_CODES, questions),
        )
        return
    await services.security.set_up(user.id, data["password_hash"], tuple(questions), tuple(answers))
    await state.clear()
    if data.get("then_confirm"):
        # Set up on the way to a payment: now confirm that payment with the new password.
        await state.set_state(Confirm.password)
        await state.set_data({"operation": data["then_confirm"]})
        await message.answer(f"{t('password-set-done')}\n\n{t('confirm-prompt')}")
        return
    await message.answer(t("password-set-done"), reply_markup=main_menu(t))


# --- change ------------------------------------------------------------------------------------


async def change_current(
    message: Message, t: Translator, user: UserRecord, services: Services, state: FSMContext
) -> None:
    secret = await take_secret(message)
    await services.security.verify_password(user.id, secret)
    await state.set_state(Change.password)
    await message.answer(f"{t('password-new')}\n\n{_rules(t)}", reply_markup=cancel_keyboard(t))


# Each dialogue's "type a new password" step, and the "once more" step that follows it.
_REPEAT_OF = {
    Setup.password.state: Setup.repeat,
    Change.password.state: Change.repeat,
    Recover.password.state: Recover.repeat,
}
_FIRST_OF = {Change.repeat.state: Change.password, Recover.repeat.state: Recover.password}


async def new_password(
    message: Message, t: Translator, user: UserRecord, services: Services, state: FSMContext
) -> None:
    """The first entry of a new password (set-up, change, recovery): checked and hashed."""
    secret = await take_secret(message)
    first_hash = await services.security.hash_new_password(secret, user.first_name)
    await state.update_data(first_hash=first_hash)
    await state.set_state(_REPEAT_OF[str(await state.get_state())])
    await message.answer(t("password-repeat"), reply_markup=cancel_keyboard(t))


async def _start_over(
    message: Message, t: Translator, state: FSMContext, first_step: State, **keep: object
) -> None:
    """The two entries differ: forget the first and ask again from the first step."""
    await state.set_data({k: v for k, v in keep.items() if v is not None})
    await state.set_state(first_step)
    await message.answer(t("password-mismatch"), reply_markup=cancel_keyboard(t))


async def new_password_repeat(
    message: Message, t: Translator, user: UserRecord, services: Services, state: FSMContext
) -> None:
    secret = await take_secret(message)
    data = await state.get_data()
    if not await services.security.matches(data["first_hash"], secret):
        first_step = _FIRST_OF[str(await state.get_state())]
        await _start_over(message, t, state, first_step)
        return
    await services.security.set_password(user.id, data["first_hash"])
    await state.clear()
    await message.answer(t("password-changed"), reply_markup=main_menu(t))


# --- recovery ----------------------------------------------------------------------------------


async def recover_answer(
    message: Message, t: Translator, user: UserRecord, services: Services, state: FSMContext
) -> None:
    secret = await take_secret(message)
    data = await state.get_data()
    index = int(data["index"])
    right = await services.security.check_answer(user.id, index, secret)
    all_right = bool(data["all_right"]) and right
    questions = tuple(data["questions"])
    if index + 1 < len(questions):
        await state.update_data(index=index + 1, all_right=all_right)
        await message.answer(
            _recovery_question(t, questions, index + 1), reply_markup=cancel_keyboard(t)
        )
        return
    # Whatever the outcome, this recovery attempt is over; a failure says nothing more.
    await state.clear()
    await services.security.finish_recovery(user.id, all_right)
    await state.set_state(Recover.password)
    await message.answer(f"{t('recover-passed')}\n\n{_rules(t)}", reply_markup=cancel_keyboard(t))


# --- what each state expects -------------------------------------------------------------------


def _hint(key: str) -> Callable[[Message, Translator], Awaitable[None]]:
    async def hint(message: Message, t: Translator) -> None:
        await message.answer(t(key), reply_markup=cancel_keyboard(t))

    return hint


def create_router() -> Router:
    router = Router(name="security")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())

    router.message.register(security_screen, Command("password"))
    router.callback_query.register(security_screen, Menu.filter(F.action == MenuAction.SECURITY))
    router.message.register(start_recovery, Command("recover"))
    router.callback_query.register(
        start_recovery, Security.filter(F.action == SecurityAction.FORGOT)
    )
    router.callback_query.register(start_change, Security.filter(F.action == SecurityAction.CHANGE))
    router.callback_query.register(cancel, Security.filter(F.action == SecurityAction.CANCEL))
    router.callback_query.register(
        pick_question, StateFilter(Setup.question), PickQuestion.filter()
    )

    secret = SecretText()
    router.message.register(new_password, StateFilter(Setup.password), secret)
    router.message.register(setup_repeat, StateFilter(Setup.repeat), secret)
    router.message.register(setup_answer, StateFilter(Setup.answer), secret)
    router.message.register(change_current, StateFilter(Change.current), secret)
    router.message.register(new_password, StateFilter(Change.password), secret)
    router.message.register(new_password, StateFilter(Recover.password), secret)
    router.message.register(new_password_repeat, StateFilter(Change.repeat), secret)
    router.message.register(new_password_repeat, StateFilter(Recover.repeat), secret)
    router.message.register(recover_answer, StateFilter(Recover.answer), secret)

    # Anything else in a dialogue (a sticker, a photo, a command it does not know) gets a hint.
    for states, key in (
        ((Setup.password, Change.password, Recover.password), "hint-password"),
        ((Setup.repeat, Change.repeat, Recover.repeat), "hint-password-repeat"),
        ((Change.current,), "hint-password-current"),
        ((Setup.question,), "hint-question-buttons"),
        ((Setup.answer, Recover.answer), "hint-answer"),
    ):
        router.message.register(_hint(key), StateFilter(*states))
    return router
