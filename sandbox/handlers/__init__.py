"""HANDLERS: the operationId → handler table the app binds to the spec."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.context import Reply, RequestContext
from sandbox.handlers import (
    account,
    chat,
    contacts,
    customers,
    dashboards,
    deals,
    events,
    invoices,
    meters,
    metrics,
    orders,
    payments,
    pending,
    revenue,
    sandbox_control,
    sms,
    usage,
    webhooks,
    websites,
)
from sandbox.spec import load_spec

Handler = Callable[[RequestContext], Reply]

HANDLERS: dict[str, Handler] = {
    # ---- platform
    "getAccount": account.get_account,
    # ---- analytics (events, metrics, dashboards, websites, revenue)
    "trackEvent": events.track_event,
    "trackEventBatch": events.track_event_batch,
    "listEvents": events.list_events,
    "getEvent": events.get_event,
    "trackEventLegacy": events.track_event_legacy,
    "queryMetrics": metrics.query_metrics,
    "listDashboards": dashboards.list_dashboards,
    "createDashboard": dashboards.create_dashboard,
    "getDashboard": dashboards.get_dashboard,
    "updateDashboard": dashboards.update_dashboard,
    "deleteDashboard": dashboards.delete_dashboard,
    "listWebsites": websites.list_websites,
    "createWebsite": websites.create_website,
    "getWebsite": websites.get_website,
    "updateWebsite": websites.update_website,
    "listConversionEvents": websites.list_conversion_events,
    "createConversionEvent": websites.create_conversion_event,
    "getAnalyticsSummary": websites.get_analytics_summary,
    "recordRevenue": revenue.record_revenue,
    "listRevenue": revenue.list_revenue,
    "getRevenue": revenue.get_revenue,
    # ---- business (CRM, SMS, chat, orders, payments, invoices, webhooks)
    "listContacts": contacts.list_contacts,
    "createContact": contacts.create_contact,
    "getContact": contacts.get_contact,
    "updateContact": contacts.update_contact,
    "deleteContact": contacts.delete_contact,
    "listDeals": deals.list_deals,
    "createDeal": deals.create_deal,
    "getDeal": deals.get_deal,
    "updateDeal": deals.update_deal,
    "deleteDeal": deals.delete_deal,
    "sendSms": sms.send_sms,
    "listSmsMessages": sms.list_sms_messages,
    "getSmsMessage": sms.get_sms_message,
    "sendChatMessage": chat.send_chat_message,
    "listConversations": chat.list_conversations,
    "getConversation": chat.get_conversation,
    "listOrders": orders.list_orders,
    "createOrder": orders.create_order,
    "getOrder": orders.get_order,
    "cancelOrder": orders.cancel_order,
    "createPayment": payments.create_payment,
    "listPayments": payments.list_payments,
    "getPayment": payments.get_payment,
    "createRefund": payments.create_refund,
    "listRefunds": payments.list_refunds,
    "getRefund": payments.get_refund,
    "createInvoice": invoices.create_invoice,
    "listInvoices": invoices.list_invoices,
    "getInvoice": invoices.get_invoice,
    "listWebhooks": webhooks.list_webhooks,
    "createWebhook": webhooks.create_webhook,
    "getWebhook": webhooks.get_webhook,
    "updateWebhook": webhooks.update_webhook,
    "deleteWebhook": webhooks.delete_webhook,
    "listWebhookDeliveries": webhooks.list_webhook_deliveries,
    "getWebhookDelivery": webhooks.get_webhook_delivery,
    "sendTestWebhook": webhooks.send_test_webhook,
    # ---- metering (customers, meters, usage)
    "listCustomers": customers.list_customers,
    "createCustomer": customers.create_customer,
    "getCustomer": customers.get_customer,
    "updateCustomer": customers.update_customer,
    "deleteCustomer": customers.delete_customer,
    "listMeters": meters.list_meters,
    "createMeter": meters.create_meter,
    "getMeter": meters.get_meter,
    "updateMeter": meters.update_meter,
    "ingestUsageEvents": usage.ingest_usage_events,
    "listUsageEvents": usage.list_usage_events,
    "getUsageEvent": usage.get_usage_event,
    "getMeterUsage": usage.get_meter_usage,
    # ---- sandbox controls
    "resetSandbox": sandbox_control.reset_sandbox,
    "listRequestLog": sandbox_control.list_request_log,
    "getTestClock": sandbox_control.get_test_clock,
    "advanceTestClock": sandbox_control.advance_test_clock,
}

PENDING = sorted(set(load_spec().operations) - set(HANDLERS))
HANDLERS.update({op: pending.not_yet(op) for op in PENDING})
