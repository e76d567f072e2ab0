"""Factories per model; SubFactory chains keep device and division consistent."""

from __future__ import annotations

import factory

from agents.models import Agent, User
from agents.tokens import token_generate, token_hash
from chats.models import Contact, Conversation
from devices_app.models import Device
from divisions.models import Division


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division

    name = factory.Sequence(lambda n: f"Division {n}")


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    number = factory.Sequence(lambda n: f"62811{n:08d}")
    name = factory.Sequence(lambda n: f"Device {n}")
    gateway = Device.Gateway.FONNTE
    gateway_token = "device-token"
    division = factory.SubFactory(DivisionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")


class StaffFactory(UserFactory):
    is_staff = True
    password = factory.django.Password("staff-password")


class AgentFactory(factory.django.DjangoModelFactory):
    """An agent with an unknown token; use `agent_create` (tests/conftest.py) to log in."""

    class Meta:
        model = Agent

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Agent {n}")
    device = factory.SubFactory(DeviceFactory)
    division = factory.SelfAttribute("device.division")
    token_hash = factory.LazyFunction(lambda: token_hash(token_generate()))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    device = factory.SubFactory(DeviceFactory)
    address = factory.Sequence(lambda n: f"62812{n:08d}")
    name = factory.Sequence(lambda n: f"Customer {n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    device = factory.SelfAttribute("contact.device")
    division = factory.SelfAttribute("device.division")
