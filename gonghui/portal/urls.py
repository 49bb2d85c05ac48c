from django.urls import path, re_path

from . import aid_views as aid
from . import case_views as cases
from . import job_views as jobs
from . import legal_views as legal
from . import membership_views as membership
from . import recruit_views as recruit
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
    # The employment-help cloud (就业帮扶云). Notices link to /jobs/<id>/, /jobs/applications/<id>/,
    # /jobs/help/<id>/, /jobs/fairs/<id>/, /jobs/recruit/ and /jobs/recruit/<id>/: keep them.
    path("jobs/", jobs.jobs_home, name="jobs"),
    path("jobs/places/", jobs.place_lookup, name="job_places"),
    path("jobs/<int:posting_id>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:posting_id>/apply/", jobs.job_apply, name="job_apply"),
    path("jobs/profile/", jobs.seeker_profile, name="seeker_profile"),
    path("jobs/applications/", jobs.my_applications, name="job_applications"),
    path("jobs/applications/<int:application_id>/", jobs.application_detail, name="job_application"),
    path("jobs/applications/<int:application_id>/withdraw/", jobs.application_withdraw,
         name="job_application_withdraw"),
    path("jobs/help/", jobs.help_list, name="job_help_list"),
    path("jobs/help/new/", jobs.help_new, name="job_help_new"),
    path("jobs/help/<int:request_id>/", jobs.help_detail, name="job_help"),
    path("jobs/help/<int:request_id>/withdraw/", jobs.help_withdraw, name="job_help_withdraw"),
    path("jobs/fairs/", jobs.fair_list, name="job_fairs"),
    path("jobs/fairs/<int:fair_id>/", jobs.fair_detail, name="job_fair"),
    path("jobs/fairs/<int:fair_id>/register/", jobs.fair_register, name="job_fair_register"),
    path("jobs/recruit/", recruit.recruit_home, name="recruit_home"),
    path("jobs/recruit/claim/", recruit.recruit_claim, name="recruit_claim"),
    path("jobs/recruit/new/", recruit.recruit_new, name="recruit_new"),
    path("jobs/recruit/<int:posting_id>/", recruit.recruit_posting, name="recruit_posting"),
    path("jobs/recruit/<int:posting_id>/edit/", recruit.recruit_edit, name="recruit_edit"),
    path("jobs/recruit/<int:posting_id>/close/", recruit.recruit_close, name="recruit_close"),
    path("jobs/recruit/<int:posting_id>/renew/", recruit.recruit_renew, name="recruit_renew"),
    path("jobs/recruit/applications/<int:application_id>/move/", recruit.recruit_move, name="recruit_move"),
]
