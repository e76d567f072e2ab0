"""Gateway tokens encrypted at rest (devices_app/crypto.py): the column becomes text, and every
token already stored in clear is encrypted. Reversible: backwards writes them in clear again."""

from django.db import migrations, models
from django.db.models import Value

import devices_app.crypto


def encrypt_existing(apps, schema_editor):
    Device = apps.get_model("devices_app", "Device")
    for pk, token in Device.objects.values_list("pk", "gateway_token"):
        # Read through the field: a clear value passes through, an encrypted one decrypts;
        # the update writes it encrypted with the newest key.
        Device.objects.filter(pk=pk).update(gateway_token=token)


def decrypt_existing(apps, schema_editor):
    Device = apps.get_model("devices_app", "Device")
    for pk, token in Device.objects.values_list("pk", "gateway_token"):
        # An expression bypasses the field's encryption: the clear value is written as it is.
        Device.objects.filter(pk=pk).update(gateway_token=Value(token))


class Migration(migrations.Migration):
    dependencies = [("devices_app", "0003_device_send_pace")]

    operations = [
        migrations.AlterField(
            model_name="device",
            name="gateway_token",
            field=devices_app.crypto.EncryptedTextField(blank=True, verbose_name="gateway token"),
        ),
        migrations.AddField(
            model_name="device",
            name="profile_checked_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="profile checked"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
