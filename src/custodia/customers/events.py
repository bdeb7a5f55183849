"""Audit events of the customer registry (ids 1000–1099)."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

CUSTOMER_LIST_VIEWED = event(1000, "CUSTOMER_LIST_VIEWED", "customer.list.viewed", _("{actor} viewed a customer list page"), is_read=True)
CUSTOMER_VIEWED = event(1001, "CUSTOMER_VIEWED", "customer.viewed", _("{actor} viewed the customer"), is_read=True)
CUSTOMER_SEARCHED = event(1002, "CUSTOMER_SEARCHED", "customer.searched", _("{actor} searched customers by an identifier"), is_read=True)
CUSTOMER_FIELD_REVEALED = event(1003, "CUSTOMER_FIELD_REVEALED", "customer.field.revealed", _("{actor} revealed {fields}"), is_read=True)
CUSTOMER_CREATED = event(1010, "CUSTOMER_CREATED", "customer.created", _("{actor} created the customer"))
CUSTOMER_UPDATED = event(1011, "CUSTOMER_UPDATED", "customer.updated", _("{actor} changed {fields}"))
CUSTOMER_DELETED = event(1012, "CUSTOMER_DELETED", "customer.deleted", _("{actor} deleted the customer"))
CUSTOMER_SHREDDED = event(1013, "CUSTOMER_SHREDDED", "customer.shredded", _("{actor} crypto-shredded the customer"))
CUSTOMERS_IMPORTED = event(1020, "CUSTOMERS_IMPORTED", "customer.imported", _("{actor} imported customers"))
CUSTOMERS_EXPORTED = event(1021, "CUSTOMERS_EXPORTED", "customer.exported", _("{actor} exported customers"), is_read=True)
CONTACT_CREATED = event(1030, "CONTACT_CREATED", "contact.created", _("{actor} added a contact"))
CONTACT_UPDATED = event(1031, "CONTACT_UPDATED", "contact.updated", _("{actor} changed a contact"))
CONTACT_DELETED = event(1032, "CONTACT_DELETED", "contact.deleted", _("{actor} deleted a contact"))
INTERACTION_CREATED = event(1040, "INTERACTION_CREATED", "interaction.created", _("{actor} logged an interaction"))
INTERACTION_UPDATED = event(1041, "INTERACTION_UPDATED", "interaction.updated", _("{actor} changed an interaction"))
INTERACTION_DELETED = event(1042, "INTERACTION_DELETED", "interaction.deleted", _("{actor} deleted an interaction"))
OPPORTUNITY_CREATED = event(1050, "OPPORTUNITY_CREATED", "opportunity.created", _("{actor} added an opportunity"))
OPPORTUNITY_UPDATED = event(1051, "OPPORTUNITY_UPDATED", "opportunity.updated", _("{actor} changed an opportunity"))
OPPORTUNITY_DELETED = event(1052, "OPPORTUNITY_DELETED", "opportunity.deleted", _("{actor} deleted an opportunity"))
TRANSACTION_CREATED = event(1060, "TRANSACTION_CREATED", "transaction.created", _("{actor} recorded a transaction"))
TRANSACTION_UPDATED = event(1061, "TRANSACTION_UPDATED", "transaction.updated", _("{actor} changed a transaction"))
TRANSACTION_DELETED = event(1062, "TRANSACTION_DELETED", "transaction.deleted", _("{actor} deleted a transaction"))
CHILD_VIEWED = event(1070, "CUSTOMER_RECORDS_VIEWED", "customer.records.viewed", _("{actor} viewed a customer's records"), is_read=True)
