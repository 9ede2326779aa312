# The peer benchmark's small rule (benches/peers/README.md) in Rego v1:
# `data.refund.route` is the route of an eligible refund, null otherwise.
package refund

routes := {
	"bank_card": "bank_card",
	"credit_card": "credit_card",
	"credit_card_installment": "credit_card_next_statement",
	"huabei_installment": "huabei",
	"jd_baitiao": "jd_baitiao",
	"xiaomi_installment": "xiaomi_installment",
	"alipay": "alipay",
	"wechat_pay": "wechat_pay",
	"cash": "store_counter",
}

eligible if {
	input.reason == "no_reason"
	input.item.condition in {"unopened", "opened_intact"}
	not input.item.activated
	to_number(input.item.paid_amount) <= 5000
}

default route := null

route := routes[input.payment.method] if eligible
