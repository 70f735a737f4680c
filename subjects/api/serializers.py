"""Shapes of API bodies, as the OpenAPI schema describes them.

Small bodies are checked with these serializers. The register's write bodies (a subject,
a bulk batch, items) are checked by subjects.api.shapes in one flat pass with the same
limits; the register's rules are subjects.validation's, on every way in.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from config.kvkk import LegalBasis
from subjects.models import ConsentChannel, IdentifierKind, Interaction
from subjects.validation import (
    MAX_ATTACHMENT_NAME,
    MAX_EVIDENCE_REFERENCE,
    MAX_INTERACTION_TEXT,
)

TOO_MANY_SUBJECTS = _("At most %(limit)s subjects per batch.")
RELATIONSHIP_END_HELP = (
    "When the customer relationship ended; retention periods of categories counted from it "
    "start then. Not in the future; null clears it, leaving it out keeps the stored date."
)


class ItemSerializer(serializers.Serializer):
    category = serializers.CharField(
        max_length=40, help_text="Data category code from the inventory."
    )
    purpose = serializers.CharField(max_length=40, help_text="Declared processing purpose code.")
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
    source_system = serializers.CharField(max_length=80)
    value = serializers.CharField(max_length=10_000, trim_whitespace=False)
    collected_at = serializers.DateTimeField(
        help_text="When the data was collected: the retention period counts from it."
    )
    last_used_at = serializers.DateTimeField(required=False, allow_null=True)


class IdentifiersSerializer(serializers.Serializer):
    tckn = serializers.CharField(required=False, max_length=11)
    passport = serializers.CharField(
        required=False, max_length=24, help_text="NATIONALITY:NUMBER, e.g. DE:C01X00T47"
    )
    email = serializers.CharField(required=False, max_length=254)
    phone = serializers.CharField(required=False, max_length=24)
    customer_no = serializers.CharField(required=False, max_length=64)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(IdentifierKind.values)
            if unknown:
                raise serializers.ValidationError(
                    {kind: [_("Unknown identifier kind.")] for kind in sorted(unknown)}
                )
        return super().to_internal_value(data)


class ConsentSerializer(serializers.Serializer):
    purpose = serializers.CharField(max_length=40, help_text="Declared processing purpose code.")
    channel = serializers.ChoiceField(choices=ConsentChannel.choices)
    given_at = serializers.DateTimeField(help_text="When the explicit consent was given.")
    withdrawn_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When it was withdrawn, if it already was."
    )
    notice_version = serializers.IntegerField(
        required=False, help_text="The version of the privacy notice shown to the subject."
    )
    evidence_reference = serializers.CharField(
        max_length=MAX_EVIDENCE_REFERENCE,
        required=False,
        help_text="A form number or call recording id; required unless an evidence file is sent.",
    )


class ConsentCreateSerializer(ConsentSerializer):
    evidence = serializers.DictField(
        required=False,
        help_text='{"name": "form.pdf", "content_base64": "…"}: a PDF, PNG or JPEG of at most '
        "ATTACHMENT_MAX_BYTES once decoded; stored encrypted.",
    )


class ConsentWithdrawSerializer(serializers.Serializer):
    withdrawn_at = serializers.DateTimeField(
        required=False, help_text="When it was withdrawn; now when left out."
    )


class ConsentViewSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    purpose_code = serializers.CharField()
    channel = serializers.CharField()
    notice_version = serializers.IntegerField(allow_null=True)
    given_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    evidence_reference = serializers.CharField()
    has_evidence_file = serializers.BooleanField()
    valid = serializers.BooleanField()


class SubjectRecordSerializer(serializers.Serializer):
    group = serializers.CharField(max_length=40, help_text="Subject group code from the inventory.")
    name = serializers.CharField(max_length=200)
    identifiers = IdentifiersSerializer()
    items = ItemSerializer(many=True, required=False, default=list)
    relationship_ended_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=RELATIONSHIP_END_HELP
    )
    consents = ConsentSerializer(
        many=True,
        required=False,
        help_text="Explicit consents given with the record (evidence by reference only).",
    )


class BulkSerializer(serializers.Serializer):
    subjects = SubjectRecordSerializer(many=True, allow_empty=False)

    def validate_subjects(self, value):
        limit = settings.API_BULK_MAX_SUBJECTS
        if len(value) > limit:
            raise serializers.ValidationError(TOO_MANY_SUBJECTS % {"limit": limit})
        return value


class SubjectUpdateSerializer(serializers.Serializer):
    group = serializers.CharField(max_length=40, required=False)
    name = serializers.CharField(max_length=200, required=False)
    identifiers = IdentifiersSerializer(required=False)
    relationship_ended_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=RELATIONSHIP_END_HELP
    )


class ItemsAddSerializer(serializers.Serializer):
    items = ItemSerializer(many=True, allow_empty=False)


class ItemUpdateSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=10_000, required=False, trim_whitespace=False)
    purpose = serializers.CharField(max_length=40, required=False)
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices, required=False)
    last_used_at = serializers.DateTimeField(required=False)


class AttachmentSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_ATTACHMENT_NAME)
    content_base64 = serializers.CharField(
        help_text="The file, base64-encoded; at most ATTACHMENT_MAX_BYTES once decoded."
    )


class InteractionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    purpose = serializers.CharField(max_length=40)
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField(max_length=MAX_INTERACTION_TEXT)
    attachment = AttachmentSerializer(required=False)


class LookupSerializer(serializers.Serializer):
    value = serializers.CharField(
        max_length=254, help_text="TCKN, passport (NAT:NO), e-mail, phone or customer no."
    )
    kind = serializers.ChoiceField(choices=IdentifierKind.choices, required=False)


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    extended = serializers.IntegerField()
    items = serializers.IntegerField()
    subjects = serializers.ListField(child=serializers.UUIDField())


class SubjectRefSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    group = serializers.CharField()
    item_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    relationship_ended_at = serializers.DateTimeField(allow_null=True)
    destroyed = serializers.BooleanField()


class MatchSerializer(SubjectRefSerializer):
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)


class LookupResultSerializer(serializers.Serializer):
    matches = MatchSerializer(many=True)


class ItemViewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category_code = serializers.CharField()
    purpose_code = serializers.CharField()
    legal_basis = serializers.CharField()
    source_system = serializers.CharField()
    value = serializers.CharField()
    collected_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class ItemRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.UUIDField()
    category_code = serializers.CharField()
    purpose_code = serializers.CharField()
    legal_basis = serializers.CharField()
    source_system = serializers.CharField()
    collected_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class InteractionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class SubjectViewSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    group = serializers.CharField()
    name = serializers.CharField()
    identifiers = serializers.DictField(child=serializers.CharField())
    items = ItemViewSerializer(many=True)
    consents = ConsentViewSerializer(many=True)
    relationship_ended_at = serializers.DateTimeField(allow_null=True)
    destroyed = serializers.BooleanField()
