"""REST endpoints of the register. Thin: shape checks here, rules in subjects.validation and services.

Write bodies of the register (subjects, bulk, items) are checked for shape by
subjects.api.shapes in one flat pass; the serializers describe them in the OpenAPI
schema. Every write accepts an Idempotency-Key header (subjects.api.idempotency).
"""

import base64
import binascii

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from subjects import selectors, services, validation
from subjects.api import (
    schema,  # noqa: F401  (registers the auth scheme)
    shapes,
)
from subjects.api import serializers as s
from subjects.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from subjects.models import Consent, DataSubject, PersonalDataItem

PURPOSE_REQUIRED = _("State the purpose of reading this subject's data in the “purpose” parameter.")
BAD_BASE64 = _("The attachment is not valid base64.")


def _actor(request) -> dict:
    return {"actor": None, "actor_label": request.user.label, "request": request._request}


def _result(result: services.IngestResult) -> dict:
    return {
        "created": len(result.created),
        "extended": len(result.matched),
        "items": result.items,
        "subjects": [str(uuid) for uuid in result.subjects],
    }


def _single(path: str) -> str:
    return path.removeprefix("subjects[0]").removeprefix(".") or "non_field_errors"


def _subject_ref(subject: DataSubject) -> dict:
    """What the API says about a subject without decrypting anything."""
    return {
        "uuid": subject.uuid,
        "group": subject.group.code,
        "item_count": getattr(subject, "item_count", None)
        or subject.items.filter(deleted_at__isnull=True).count(),
        "created_at": subject.created_at,
        "relationship_ended_at": subject.relationship_ended_at,
        "destroyed": subject.is_shredded,
    }


def _item_ref(item: PersonalDataItem) -> dict:
    """What the API says about an item it changed: a reference, never the value."""
    return {
        "id": item.pk,
        "subject": item.subject.uuid,
        "category_code": item.category.code,
        "purpose_code": item.purpose.code,
        "legal_basis": item.legal_basis,
        "source_system": item.source_system,
        "collected_at": item.collected_at,
        "last_used_at": item.last_used_at,
    }


def _decoded_size(encoded: str) -> int:
    """Bytes a base64 text decodes to, known from its length alone."""
    return len(encoded) * 3 // 4 - len(encoded) + len(encoded.rstrip("="))


def _subject(uuid) -> DataSubject:
    return get_object_or_404(DataSubject.objects.select_related("group"), uuid=uuid)


class SubjectUpsertView(APIView):
    @extend_schema(
        request=s.SubjectRecordSerializer,
        responses={200: s.IngestResultSerializer, 201: s.IngestResultSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Create a data subject, or add items to the one its identifiers match",
    )
    @idempotent
    def post(self, request):
        record = shapes.record_shape_check(request.data)
        try:
            inputs = validation.records_validate(records=[record])
            result = services.register_ingest(inputs=inputs, source="api", **_actor(request))
        except validation.RecordErrors as exc:
            # one record: paths as in the body ("identifiers.tckn"), not "subjects[0].identifiers.tckn"
            raise validation.RecordErrors(
                {_single(path): msgs for path, msgs in exc.errors.items()}
            ) from exc
        return Response(
            _result(result),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class BulkView(APIView):
    @extend_schema(
        request=s.BulkSerializer,
        responses={201: s.IngestResultSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Create or extend many subjects at once, all or nothing",
    )
    @idempotent
    def post(self, request):
        records = shapes.bulk_shape_check(request.data)
        inputs = validation.records_validate(records=records)
        result = services.register_ingest(inputs=inputs, source="api-bulk", **_actor(request))
        return Response(_result(result), status=status.HTTP_201_CREATED)


class LookupView(APIView):
    reads_only = True  # posted so that the identifier stays out of URLs and logs

    @extend_schema(
        request=s.LookupSerializer,
        responses={200: s.LookupResultSerializer},
        summary="Find subjects by any identifier (blind index; returns no personal values)",
        description=(
            "The identifier travels in the body, never in the URL. A value that parses as "
            "several kinds (a phone number that is also a customer number) returns every "
            "match with the kind it matched as."
        ),
    )
    def post(self, request):
        body = s.LookupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        matches = selectors.subject_lookup(
            value=body.validated_data["value"],
            kind=body.validated_data.get("kind") or None,
            **_actor(request),
        )
        return Response({"matches": [{"kind": m.kind, **_subject_ref(m.subject)} for m in matches]})


class SubjectDetailView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "purpose", str, required=True, description="Why the data is read (logged)."
            )
        ],
        responses={200: s.SubjectViewSerializer},
        summary="Read everything held for a subject (logged with the stated purpose)",
    )
    def get(self, request, uuid):
        purpose = request.query_params.get("purpose", "").strip()
        if len(purpose) < 3 or "\x00" in purpose:
            raise ValidationError({"purpose": [PURPOSE_REQUIRED]})
        view = selectors.subject_read(
            subject=_subject(uuid), purpose=purpose[:255], **_actor(request)
        )
        return Response(s.SubjectViewSerializer(view).data)

    @extend_schema(
        request=s.SubjectUpdateSerializer,
        responses={200: s.SubjectRefSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Correct a subject",
    )
    @idempotent
    def patch(self, request, uuid):
        subject = _subject(uuid)
        body = s.SubjectUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        group = validation.group_get(code=data["group"]) if "group" in data else None
        identifiers = validation.identifiers_clean(raw=data.get("identifiers") or {})
        ended = {}
        if "relationship_ended_at" in data:
            ended["relationship_ended_at"] = validation.relationship_end_clean(
                value=data["relationship_ended_at"]
            )
        subject = services.subject_update(
            subject=subject,
            name=data.get("name"),
            group=group,
            identifiers=identifiers,
            **ended,
            **_actor(request),
        )
        return Response(_subject_ref(subject))


class ItemsAddView(APIView):
    @extend_schema(
        request=s.ItemsAddSerializer,
        responses={201: s.IngestResultSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Add items to a subject",
    )
    @idempotent
    def post(self, request, uuid):
        subject = _subject(uuid)
        raw_items = shapes.items_shape_check(request.data)
        items = services.items_add(subject=subject, raw_items=raw_items, **_actor(request))
        return Response(
            {"created": 0, "extended": 1, "items": len(items), "subjects": [str(subject.uuid)]},
            status=201,
        )


class ItemUpdateView(APIView):
    @extend_schema(
        request=s.ItemUpdateSerializer,
        responses={200: s.ItemRefSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Change one item (the answer names the item; it never repeats the value)",
    )
    @idempotent
    def patch(self, request, pk):
        item = get_object_or_404(PersonalDataItem, pk=pk, deleted_at__isnull=True)
        body = s.ItemUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        purpose = validation.purpose_declared(code=data["purpose"]) if "purpose" in data else None
        item = services.item_update(
            item=item,
            value=data.get("value"),
            purpose=purpose,
            legal_basis=data.get("legal_basis"),
            last_used_at=data.get("last_used_at"),
            **_actor(request),
        )
        return Response(s.ItemRefSerializer(_item_ref(item)).data)


class InteractionCreateView(APIView):
    @extend_schema(
        request=s.InteractionSerializer,
        responses={201: s.InteractionRefSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Record a customer-service interaction",
    )
    @idempotent
    def post(self, request, uuid):
        subject = _subject(uuid)
        body = s.InteractionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        purpose = validation.purpose_declared(code=data["purpose"])
        attachment = name = None
        if "attachment" in data:
            encoded = data["attachment"]["content_base64"]
            # refused by its length, before a byte of it is decoded
            services.attachment_check(size=_decoded_size(encoded))
            try:
                attachment = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValidationError({"attachment.content_base64": [BAD_BASE64]}) from exc
            name = data["attachment"]["name"]
        interaction = services.interaction_create(
            subject=subject,
            kind=data["kind"],
            purpose=purpose,
            occurred_at=data["occurred_at"],
            text=data["text"],
            attachment=attachment,
            attachment_name=name or "",
            **_actor(request),
        )
        return Response({"id": interaction.pk}, status=status.HTTP_201_CREATED)


def _consent_ref(consent: Consent) -> dict:
    return {
        "uuid": consent.uuid,
        "purpose_code": consent.purpose.code,
        "channel": consent.channel,
        "notice_version": consent.notice.version if consent.notice else None,
        "given_at": consent.given_at,
        "withdrawn_at": consent.withdrawn_at,
        "evidence_reference": consent.evidence_reference,
        "has_evidence_file": bool(consent.evidence_path),
        "valid": consent.withdrawn_at is None,
    }


class ConsentCreateView(APIView):
    @extend_schema(
        request=s.ConsentCreateSerializer,
        responses={201: s.ConsentViewSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Record a subject's explicit consent for a purpose, with its evidence",
    )
    @idempotent
    def post(self, request, uuid):
        subject = _subject(uuid)
        body = shapes.consent_shape_check(request.data)
        evidence = name = None
        if "evidence" in body:
            encoded = body["evidence"]["content_base64"]
            services.evidence_check(size=_decoded_size(encoded))  # before decoding a byte
            try:
                evidence = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValidationError({"evidence.content_base64": [BAD_BASE64]}) from exc
            name = body["evidence"]["name"]
        consent = services.consent_record(
            subject=subject,
            raw=body,
            evidence=evidence,
            evidence_name=name or "",
            **_actor(request),
        )
        return Response(
            s.ConsentViewSerializer(_consent_ref(consent)).data, status=status.HTTP_201_CREATED
        )


class ConsentWithdrawView(APIView):
    @extend_schema(
        request=s.ConsentWithdrawSerializer,
        responses={200: s.ConsentViewSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Withdraw a consent: it takes effect at once",
        description=(
            "From then on items on explicit consent for that subject and purpose are refused "
            "and the items it covered are due for destruction in the next retention run."
        ),
    )
    @idempotent
    def post(self, request, uuid):
        consent = get_object_or_404(Consent.objects.select_related("subject"), uuid=uuid)
        body = request.data if isinstance(request.data, dict) else {}
        consent = services.consent_withdraw(
            consent=consent, withdrawn_at=body.get("withdrawn_at"), **_actor(request)
        )
        return Response(s.ConsentViewSerializer(_consent_ref(consent)).data)
