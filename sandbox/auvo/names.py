"""Word pools for plausible Brazilian field-service data (made-up values, as in the doc's §8)."""

from __future__ import annotations

FIRST_NAMES = (
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Eduarda",
    "Felipe",
    "Gabriela",
    "Henrique",
    "Isabela",
    "João",
    "Karina",
    "Lucas",
    "Mariana",
    "Nicolas",
    "Otávio",
    "Patrícia",
    "Rafael",
    "Sabrina",
    "Thiago",
    "Vitória",
    "William",
    "Yasmin",
)
LAST_NAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Araújo",
    "Melo",
)
COMPANY_WORDS = (
    "Condomínio",
    "Supermercado",
    "Padaria",
    "Clínica",
    "Escola",
    "Hotel",
    "Restaurante",
    "Farmácia",
    "Academia",
    "Oficina",
    "Indústria",
    "Loja",
)
COMPANY_NAMES = (
    "Aurora",
    "Bela Vista",
    "Canaã",
    "Dom Pedro",
    "Esperança",
    "Flor de Lis",
    "Girassol",
    "Horizonte",
    "Ipê Amarelo",
    "Jardim",
    "Kairós",
    "Lago Azul",
    "Monte Verde",
    "Nova Era",
    "Orquídea",
    "Primavera",
    "Recanto",
    "Santa Clara",
    "Tropical",
    "Vale do Sol",
)
STREETS = (
    "Rua das Flores",
    "Avenida Paulista",
    "Rua Augusta",
    "Rua XV de Novembro",
    "Avenida Brasil",
    "Rua da Consolação",
    "Rua Oscar Freire",
    "Avenida Ipiranga",
    "Rua Vergueiro",
    "Rua Harmonia",
)
DISTRICTS = ("Centro", "Pinheiros", "Moema", "Vila Mariana", "Tatuapé", "Santana", "Lapa", "Mooca")
JOB_POSITIONS = ("Técnico", "Técnico Sênior", "Supervisor", "Eletricista", "Instalador", "Coordenador")
TASK_TYPES = (
    "Preventiva",
    "Corretiva",
    "Instalação",
    "Vistoria",
    "Orçamento",
    "Entrega",
    "Retirada",
    "Manutenção de ar-condicionado",
    "Limpeza de filtros",
    "Visita técnica",
)
TEAM_NAMES = ("Equipe Norte", "Equipe Sul", "Equipe Leste", "Equipe Oeste", "Plantão", "Instalações")
SEGMENTS = ("Residencial", "Comercial", "Industrial", "Hospitalar", "Educação", "Varejo")
KEYWORDS = ("urgente", "garantia", "contrato", "retorno", "vip", "noturno", "feriado", "peças", "remoto")
EQUIPMENT_KINDS = (
    "Split 12000 BTU",
    "Split 18000 BTU",
    "Chiller",
    "Bomba d'água",
    "Gerador",
    "Elevador",
    "Portão automático",
    "Câmera IP",
    "Nobreak",
    "Compressor",
)
CATEGORY_NAMES = ("Climatização", "Elétrica", "Hidráulica", "Segurança", "Automação", "Geral")
PRODUCT_NAMES = (
    "Filtro de ar",
    "Gás R410A (kg)",
    "Capacitor 35uF",
    "Cabo PP 3x2,5 (m)",
    "Disjuntor 20A",
    "Tubo de cobre 1/4 (m)",
    "Fita isolante",
    "Relé térmico",
    "Controle remoto universal",
    "Sensor de temperatura",
    "Correia em V",
    "Rolamento 6203",
    "Óleo lubrificante (l)",
)
SERVICE_NAMES = (
    "Mão de obra técnica (h)",
    "Deslocamento",
    "Higienização completa",
    "Carga de gás",
    "Instalação padrão",
    "Visita de diagnóstico",
    "Troca de compressor",
    "Laudo técnico",
)
EXPENSE_TYPES = ("Combustível", "Alimentação", "Pedágio", "Estacionamento", "Hospedagem", "Material")
QUESTIONNAIRES = ("Checklist preventiva", "Vistoria de entrada", "Pesquisa de qualidade", "Segurança NR-10")
QUESTIONS = (
    "Equipamento ligado?",
    "Filtros limpos?",
    "Pressão do gás (psi)",
    "Observações do cliente",
    "Foto do local",
    "Ruído anormal?",
)
REPORTS = (
    "Serviço executado conforme solicitado.",
    "Cliente ausente, reagendar.",
    "Troca de peça realizada.",
    "Equipamento operando normalmente.",
    "",
)
