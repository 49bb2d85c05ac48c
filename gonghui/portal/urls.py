from django.urls import path, re_path

from . import aid_views as aid
from . import case_views as cases
from . import legal_views as legal
from . import membership_views as membership
from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.sms_code_view, name="sms_code"),
    path("logout/", views.logout_view, name="logout"),
    path("me/edit/", views.profile_edit, name="profile_edit"),
    path("privacy/", views.privacy, name="privacy"),
    # Membership (会籍)
    path("membership/", membership.hub, name="membership"),
    path("membership/join/", membership.join, name="membership_join"),
    path("membership/claim/", membership.claim, name="membership_claim"),
    path("membership/consent/", membership.consent, name="membership_consent"),
    path("membership/application/withdraw/", membership.application_withdraw, name="membership_application_withdraw"),
    path("membership/card/", membership.card, name="membership_card"),
    path("membership/card/qr/", membership.card_qr, name="membership_card_qr"),
    path("membership/card/revoke/", membership.card_revoke, name="membership_card_revoke"),
    path("membership/transfer/", membership.transfer, name="membership_transfer"),
    path("membership/transfer/cancel/", membership.transfer_cancel, name="membership_transfer_cancel"),
    path("membership/correct/", membership.correct, name="membership_correct"),
    path("membership/leave/", membership.leave, name="membership_leave"),
    path("membership/lookup/places/", membership.lookup_places, name="membership_lookup_places"),
    re_path(r"^membership/lookup/(?P<kind>employer|platform|occupation)/$", membership.lookup_pick,
            name="membership_lookup"),
    # Cases (维权诉求); services send workers /cases/<id>/ and /callbacks/<token>/ links: keep them.
    path("cases/", cases.case_list, name="cases"),
    path("cases/new/", cases.case_new, name="case_new"),
    path("cases/new/categories/", cases.category_lookup, name="case_categories"),
    path("cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    path("cases/<int:case_id>/attachments/<int:attachment_id>/", cases.case_attachment, name="case_attachment"),
    path("cases/<int:case_id>/supplement/", cases.case_supplement, name="case_supplement"),
    path("cases/<int:case_id>/withdraw/", cases.case_withdraw, name="case_withdraw"),
    path("cases/<int:case_id>/rate/", cases.case_rate, name="case_rate"),
    path("callbacks/<str:token>/", cases.callback, name="callback"),
    # The legal-affairs cloud (法务云): public; /laws/<slug>/<第X条>/ is the article's permalink.
    path("legal/", legal.ask, name="legal_ask"),
    path("legal/guides/<slug:key>/", legal.guide, name="legal_guide"),
    # Legal aid (工会法律援助): the applicant's and the assigned provider's pages.
    path("legal/aid/", aid.aid_list, name="aid_list"),
    path("legal/aid/new/", aid.aid_new, name="aid_new"),
    path("legal/aid/<int:application_id>/", aid.aid_detail, name="aid_detail"),
    path("legal/aid/<int:application_id>/documents/<int:document_id>/", aid.aid_document, name="aid_document"),
    re_path(r"^legal/aid/(?P<application_id>\d+)/(?P<action>documents|supply|withdraw|stage|decision|hearing|"
            r"deadline_done|note|conclude)/$", aid.aid_action, name="aid_action"),
    path("laws/", legal.library, name="laws"),
    path("laws/search/", legal.search, name="law_search"),
    path("laws/<str:law>/", legal.law_detail, name="law"),
    path("laws/<str:law>/<str:article>/", legal.article, name="article"),
]
