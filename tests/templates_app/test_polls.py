"""Polls: validating an ad hoc poll, saved polls, and tallying votes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from chats.models import Message
from templates_app.forms import PollForm
from templates_app.models import Poll
from templates_app.selectors import PollVoter, poll_tally
from templates_app.services import PollSpec, poll_spec_build, poll_spec_from_saved
from tests.factories import ContactFactory, ConversationFactory

# --- PollForm / poll_spec_build ------------------------------------------------------------


def form(question="Kapan?", choices="Pagi\nSiang\nMalam", select="single") -> PollForm:
    return PollForm(data={"question": question, "choices": choices, "select": select})


def test_valid_poll_gives_a_normalized_spec():
    f = form(
        question="  Kapan   kirim? ", choices="  Pagi \n\n Siang  sore\nMalam\n", select="multiple"
    )

    assert f.is_valid(), f.errors
    assert f.spec == PollSpec(
        question="Kapan kirim?", choices=("Pagi", "Siang sore", "Malam"), multiple=True
    )
    assert f.spec.fonnte_fields() == {
        "pollname": "Kapan kirim?",
        "choices": "Pagi,Siang sore,Malam",
        "select": "multiple",
    }


def test_choices_may_come_as_several_inputs():
    data = QueryDict(mutable=True)
    data.update({"question": "Q", "select": "single"})
    data.setlist("choices", ["Ya", "Tidak", ""])

    f = PollForm(data=data)

    assert f.is_valid(), f.errors
    assert f.spec.choices == ("Ya", "Tidak")
    assert f.spec.multiple is False


def test_comma_inside_a_choice_is_refused_by_name():
    f = form(choices="Yes, please\nNo")

    assert not f.is_valid()
    assert f.errors["choices"] == [
        "“Yes, please” has a comma; WhatsApp gateways separate choices with commas."
    ]


def test_duplicate_choices_are_refused_ignoring_case():
    f = form(choices="Ya\nya\nTidak\nYA")

    assert not f.is_valid()
    assert f.errors["choices"] == ["“ya” is given more than once; choices must differ."]


@pytest.mark.parametrize("count", [1, 13])
def test_choice_count_must_be_2_to_12(count):
    f = form(choices="\n".join(f"Choice {i}" for i in range(count)))

    assert not f.is_valid()
    assert f.errors["choices"] == [f"Give 2 to 12 choices (you gave {count})."]


def test_choices_are_required():
    assert form(choices="").errors["choices"] == ["This field is required."]
    assert form(choices=" \n ").errors["choices"] == ["Give 2 to 12 choices (you gave 0)."]


def test_twelve_choices_are_fine():
    assert form(choices="\n".join(f"C{i}" for i in range(12))).is_valid()


def test_every_problem_is_listed_at_once():
    f = form(choices="a,b\na,b\n" + "\n".join(str(i) for i in range(12)))

    assert not f.is_valid()
    assert len(f.errors["choices"]) == 3  # too many, a comma, a repeat


def test_question_is_required_and_at_most_255_characters():
    assert "question" in form(question="   ").errors
    too_long = form(question="x" * 256)
    assert not too_long.is_valid()
    assert "255" in too_long.errors["question"][0]
    assert form(question="x" * 255).is_valid()


def test_select_must_be_single_or_multiple():
    assert "select" in form(select="some").errors


def test_build_raises_errors_keyed_by_field():
    with pytest.raises(ValidationError) as caught:
        poll_spec_build(question="", choices=["only one"], multiple=False)

    assert set(caught.value.error_dict) == {"question", "choices"}


@pytest.mark.django_db
def test_saved_poll_becomes_a_spec():
    poll = Poll.objects.create(name="Puas?", choices=[" Ya ", "Tidak"], multiple=True)

    assert poll_spec_from_saved(poll=poll) == PollSpec("Puas?", ("Ya", "Tidak"), True)


# --- poll_tally -----------------------------------------------------------------------------


def send_poll(conversation, choices=("Pagi", "Siang", "Malam")) -> Message:
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.OUT,
        poll_name="Kapan?",
        poll_choices=list(choices),
    )


def vote(poll, selected, *, conversation=None, author="", author_name="", minutes=0) -> Message:
    conversation = conversation or poll.conversation
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.IN,
        poll_vote_for=poll,
        poll_choices=list(selected),
        author_address=author,
        author_name=author_name,
        gateway_timestamp=timezone.now() + timedelta(minutes=minutes),
    )


@pytest.mark.django_db
def test_tally_counts_each_choice_in_poll_order():
    conversation = ConversationFactory(contact=ContactFactory(address="628111", name="Budi"))
    poll = send_poll(conversation)
    vote(poll, ["Siang"])

    assert poll_tally(poll_message=poll) == [
        ("Pagi", 0, []),
        ("Siang", 1, [PollVoter("628111", "Budi")]),
        ("Malam", 0, []),
    ]


@pytest.mark.django_db
def test_only_the_latest_vote_of_a_voter_counts():
    conversation = ConversationFactory()
    poll = send_poll(conversation)
    vote(poll, ["Malam"], minutes=5)
    vote(poll, ["Pagi"], minutes=1)  # arrived later, but was cast earlier

    tally = {row.choice: row.count for row in poll_tally(poll_message=poll)}

    assert tally == {"Pagi": 0, "Siang": 0, "Malam": 1}


@pytest.mark.django_db
def test_a_withdrawn_vote_counts_nowhere():
    poll = send_poll(ConversationFactory())
    vote(poll, ["Pagi"], minutes=1)
    vote(poll, [], minutes=2)

    assert [row.count for row in poll_tally(poll_message=poll)] == [0, 0, 0]


@pytest.mark.django_db
def test_in_groups_each_author_is_a_voter_and_multiple_choices_count():
    group = ContactFactory(address="1203634@g.us", name="Pelanggan", is_group=True)
    conversation = ConversationFactory(contact=group)
    poll = send_poll(conversation)
    vote(poll, ["Pagi", "Malam"], author="628111", author_name="Budi", minutes=1)
    vote(poll, ["pagi "], author="628222", author_name="Sari", minutes=2)
    vote(poll, ["Siang"], author="628111", author_name="Budi", minutes=3)  # Budi changes
    vote(poll, ["Pagi"], author="", minutes=4)  # no author: cannot be attributed

    rows = {row.choice: row for row in poll_tally(poll_message=poll)}

    assert rows["Pagi"].voters == [PollVoter("628222", "Sari")]
    assert rows["Siang"].voters == [PollVoter("628111", "Budi")]
    assert rows["Malam"].count == 0


@pytest.mark.django_db
def test_unknown_choices_and_outbound_rows_are_ignored():
    conversation = ConversationFactory()
    poll = send_poll(conversation)
    vote(poll, ["Tengah malam", "Pagi", "Pagi"])
    Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.OUT,
        poll_vote_for=poll,
        poll_choices=["Malam"],
    )

    assert [row.count for row in poll_tally(poll_message=poll)] == [1, 0, 0]


@pytest.mark.django_db
def test_votes_from_a_later_episode_still_count():
    contact = ContactFactory()
    first = ConversationFactory(contact=contact, status="resolved")
    poll = send_poll(first)
    later = ConversationFactory(contact=contact)
    vote(poll, ["Malam"], conversation=later)

    assert [row.count for row in poll_tally(poll_message=poll)] == [0, 0, 1]


def test_invalid_form_shows_the_choices_again_one_per_line():
    data = QueryDict(mutable=True)
    data.update({"question": "Q", "select": "single"})
    data.setlist("choices", ["Ya, tentu", "Tidak"])

    html = str(PollForm(data=data)["choices"])

    assert "Ya, tentu\nTidak</textarea>" in html
